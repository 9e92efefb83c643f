//! The rule ids of CONTRACT.md (the table at its end), read from the copy this crate embeds, so checks, scenarios, faults and coverage reports can name the rules they exercise.
//!
//! `contract-tests/CONTRACT.md` is a byte-for-byte copy of `../shared/api/CONTRACT.md`, where
//! the contract is maintained; `tests/rules.rs` fails when the two differ, so the copy is
//! refreshed with the contract, and the suite runs where `shared/` is not checked out.

/// The contract as this build of the suite knows it.
pub const CONTRACT: &str = include_str!("../CONTRACT.md");

/// One row of the rule table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub text: String,
}

/// The rows of the table under `## Rule ids`, in the contract's order.
pub fn parse(contract: &str) -> Vec<Rule> {
    let Some((_, table)) = contract.split_once("## Rule ids") else {
        return Vec::new();
    };
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().strip_prefix('|')?.split('|').collect();
            let id = cells.first()?.trim().strip_prefix('`')?.strip_suffix('`')?;
            Some(Rule {
                id: id.to_owned(),
                text: cells.get(1)?.trim().to_owned(),
            })
        })
        .collect()
}

/// Every rule of the embedded contract.
pub fn all() -> Vec<Rule> {
    parse(CONTRACT)
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
                Rule {
                    id: "auth.required".into(),
                    text: "every operation needs a key".into()
                },
                Rule {
                    id: "list.window".into(),
                    text: "page `p` holds matches".into()
                },
            ]
        );
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
