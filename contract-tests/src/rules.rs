//! The rule ids of CONTRACT.md (the table at its end): the typed [`Rule`] (from `contract-rules`) held to the table of the copy this crate embeds, and the rules' texts read from it.
//!
//! `contract-tests/CONTRACT.md` is a byte-for-byte copy of `../shared/api/CONTRACT.md`, where
//! the contract is maintained; `src/tests/contract_copy.rs` fails when the two differ, so the copy is
//! refreshed with the contract, and the suite runs where `shared/` is not checked out.

pub use contract_rules::{Rule, RuleSet, UnknownRule};

/// The contract as this build of the suite knows it.
pub const CONTRACT: &str = include_str!("../CONTRACT.md");

/// One row of the rule table, as the contract writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    pub text: String,
}

/// The rows of the table under `## Rule ids`, in the contract's order.
pub fn parse(contract: &str) -> Vec<Row> {
    let Some((_, table)) = contract.split_once("## Rule ids") else {
        return Vec::new();
    };
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().strip_prefix('|')?.split('|').collect();
            let id = cells.first()?.trim().strip_prefix('`')?.strip_suffix('`')?;
            Some(Row {
                id: id.to_owned(),
                text: cells.get(1)?.trim().to_owned(),
            })
        })
        .collect()
}

/// Every rule of the embedded contract.
pub fn all() -> Vec<Row> {
    parse(CONTRACT)
}

/// A rule's text in the contract's table (empty if the embedded table lacks it, which a test
/// here forbids).
pub fn text(rule: Rule) -> String {
    all()
        .into_iter()
        .find(|r| r.id == rule.id())
        .map_or_else(String::new, |r| r.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rule_table_and_nothing_else() {
        let contract = "# C\n\n| a | b |\n|---|---|\n| `not.a.rule` | above the table |\n\n## Rule ids\n\n| id | rule |\n|---|---|\n| `auth.required` | every operation needs a key |\n| `list.window` | page `p` holds matches |\n";
        let rules = parse(contract);
        assert_eq!(
            rules,
            vec![
                Row {
                    id: "auth.required".into(),
                    text: "every operation needs a key".into()
                },
                Row {
                    id: "list.window".into(),
                    text: "page `p` holds matches".into()
                },
            ]
        );
    }

    #[test]
    fn the_rule_type_is_exactly_the_embedded_contracts_table_in_its_order() {
        let table: Vec<String> = all().into_iter().map(|r| r.id).collect();
        let typed: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(
            typed, table,
            "contract-rules must follow CONTRACT.md's `## Rule ids` table"
        );
    }

    /// The text of a rule, as the contract's table writes it.
    #[test]
    fn every_rule_has_its_text() {
        for rule in Rule::ALL {
            assert!(!text(*rule).is_empty(), "{rule}");
        }
    }

    #[test]
    fn the_embedded_contract_has_its_rules() {
        let ids: Vec<String> = all().into_iter().map(|r| r.id).collect();
        assert!(ids.len() >= 40, "{ids:?}");
        for id in [
            "auth.required",
            "never.lost",
            "list.window",
            "coerce.unspecified",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
        }
    }
}
