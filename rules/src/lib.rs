//! The rule ids of CONTRACT.md's `## Rule ids` table as one type, so a check, a fault or a coverage row that names a rule names one that exists: a misspelled rule does not compile.
//!
//! The table is held here, in the contract's order; `contract-tests` tests that it is exactly
//! the table of the contract it embeds (ids and order), so a rule added to, renamed in or removed
//! from CONTRACT.md fails that test until this list follows. This crate has no dependencies: the
//! reference server (whose faults name the rules they break) and the suite both use it without
//! depending on each other.

use std::fmt;
use std::str::FromStr;

macro_rules! rules {
    ($($variant:ident = $id:literal,)*) => {
        /// One rule of CONTRACT.md, by its id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $(
                #[doc = concat!("`", $id, "`")]
                $variant,
            )*
        }

        impl Rule {
            /// Every rule, in the contract's order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The id as CONTRACT.md writes it.
            pub const fn id(self) -> &'static str {
                match self {
                    $(Rule::$variant => $id,)*
                }
            }
        }
    };
}

rules! {
    AuthRequired = "auth.required",
    AuthMissing = "auth.missing",
    AuthUnknown = "auth.unknown",
    TenancyItem = "tenancy.item",
    TenancyList = "tenancy.list",
    SchemaResponse = "schema.response",
    SchemaErrors = "schema.errors",
    CreateStatus = "create.status",
    CreateServerFields = "create.server-fields",
    CreateDefaults = "create.defaults",
    CreateNullKept = "create.null-kept",
    CreateEcho = "create.echo",
    CreateWorkflowNotNull = "create.workflow-not-null",
    CoerceAccepted = "coerce.accepted",
    CoerceRejected = "coerce.rejected",
    CoerceUnspecified = "coerce.unspecified",
    Length24 = "length.24",
    BodyMissing = "body.missing",
    BodyJsonInvalid = "body.json-invalid",
    BodyNotObject = "body.not-object",
    BodyNotUtf8 = "body.not-utf8",
    BodyTooLarge = "body.too-large",
    ListDefaults = "list.defaults",
    ListSearch = "list.search",
    ListTimeBounds = "list.time-bounds",
    ListExactFilters = "list.exact-filters",
    ListAnd = "list.and",
    ListOrder = "list.order",
    ListTotal = "list.total",
    ListWindow = "list.window",
    ListParamInvalid = "list.param-invalid",
    GetFound = "get.found",
    ItemNotFound = "item.not-found",
    UpdateFields = "update.fields",
    UpdateInvalid = "update.invalid",
    UpdateNullAndEmpty = "update.null-and-empty",
    UpdateTimestamps = "update.timestamps",
    UpdatePersisted = "update.persisted",
    DeleteGone = "delete.gone",
    MethodNotAllowed = "method.not-allowed",
    Never5xx = "never.5xx",
    NeverLost = "never.lost",
}

impl Rule {
    /// The rule's position in [`Rule::ALL`], for sets and tables indexed by rule.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A string that is not the id of any rule of the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRule;

impl fmt::Display for UnknownRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a rule id of CONTRACT.md")
    }
}

impl std::error::Error for UnknownRule {}

impl FromStr for Rule {
    type Err = UnknownRule;

    fn from_str(id: &str) -> Result<Rule, UnknownRule> {
        Rule::ALL
            .iter()
            .copied()
            .find(|rule| rule.id() == id)
            .ok_or(UnknownRule)
    }
}

/// A set of rules, one bit each: what a check asserted on one exchange, without allocating on
/// the hot path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(u64);

// One bit per rule: a contract that outgrows 64 rules must widen the set, not wrap.
const _: () = assert!(Rule::ALL.len() <= 64);

impl RuleSet {
    pub const EMPTY: RuleSet = RuleSet(0);
    /// Every rule of the contract.
    pub const ALL: RuleSet = RuleSet(if Rule::ALL.len() == 64 {
        u64::MAX
    } else {
        (1 << Rule::ALL.len()) - 1
    });

    /// The set of `rules`.
    pub const fn of(rules: &[Rule]) -> RuleSet {
        let mut bits = 0u64;
        let mut i = 0;
        while i < rules.len() {
            bits |= 1 << rules[i].index();
            i += 1;
        }
        RuleSet(bits)
    }

    pub const fn contains(self, rule: Rule) -> bool {
        self.0 & (1 << rule.index()) != 0
    }

    pub const fn union(self, other: RuleSet) -> RuleSet {
        RuleSet(self.0 | other.0)
    }

    pub const fn intersection(self, other: RuleSet) -> RuleSet {
        RuleSet(self.0 & other.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The rules of the set, in the contract's order.
    pub fn iter(self) -> impl Iterator<Item = Rule> {
        Rule::ALL.iter().copied().filter(move |r| self.contains(*r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_back_as_its_rule_and_nothing_else_reads() {
        for rule in Rule::ALL {
            assert_eq!(rule.id().parse::<Rule>(), Ok(*rule));
            assert_eq!(rule.to_string(), rule.id());
        }
        for wrong in ["", "auth", "auth.Required", "auth.required ", "list-window"] {
            assert_eq!(wrong.parse::<Rule>(), Err(UnknownRule), "{wrong:?}");
        }
    }

    #[test]
    fn indexes_follow_the_table() {
        for (i, rule) in Rule::ALL.iter().enumerate() {
            assert_eq!(rule.index(), i);
        }
    }

    #[test]
    fn a_set_holds_exactly_its_rules() {
        let set = RuleSet::of(&[Rule::NeverLost, Rule::AuthRequired]);
        assert!(set.contains(Rule::AuthRequired) && set.contains(Rule::NeverLost));
        assert!(!set.contains(Rule::ListWindow));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Rule::AuthRequired, Rule::NeverLost]
        );
        let other = RuleSet::of(&[Rule::ListWindow, Rule::NeverLost]);
        assert_eq!(set.intersection(other), RuleSet::of(&[Rule::NeverLost]));
        assert_eq!(set.union(other).iter().count(), 3);
        assert!(RuleSet::EMPTY.is_empty() && !set.is_empty());
        assert_eq!(RuleSet::ALL.iter().collect::<Vec<_>>(), Rule::ALL);
    }
}
