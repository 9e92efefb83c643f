//! Sharding a run: `--partition K/N` runs the cases whose index is K-1 modulo N, so N runners with the same seed run, between them, exactly the cases of the unsharded run.
//!
//! Index modulo N rather than contiguous blocks: every slice gets an even share of the run's
//! cases whatever N is, and the scenario mix (drawn per case seed) spreads evenly too.

use std::fmt;
use std::str::FromStr;

/// The K-th of N slices (`index` counts from 1, as `--partition` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    index: u64,
    count: u64,
}

impl Partition {
    /// The most slices a run may be cut into; more would not fit a CI matrix anyway.
    pub(crate) const MAX_COUNT: u64 = 1024;

    pub fn new(index: u64, count: u64) -> Option<Partition> {
        ((1..=Self::MAX_COUNT).contains(&count) && (1..=count).contains(&index))
            .then_some(Partition { index, count })
    }

    pub fn index(self) -> u64 {
        self.index
    }

    pub fn count(self) -> u64 {
        self.count
    }

    /// Whether case `case` (0-based, as `runner::case_seed` numbers them) belongs to this slice.
    pub fn contains(self, case: u64) -> bool {
        case % self.count == self.index - 1
    }

    /// The case indices of this slice in a run of `cases` cases, in order. The runner draws its
    /// cases from exactly these.
    pub fn cases(self, cases: u64) -> impl Iterator<Item = u64> {
        (self.index - 1..cases).step_by(self.count as usize)
    }

    /// Regression seeds replay in the first slice only: each runs once across the N slices,
    /// as in the unsharded run.
    pub(crate) fn replays_regressions(self) -> bool {
        self.index == 1
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Partition, String> {
        let wrong = || {
            format!(
                "--partition {} is not K/N with 1 <= K <= N <= {}",
                crate::text::quoted(text),
                Self::MAX_COUNT
            )
        };
        let (k, n) = text.split_once('/').ok_or_else(wrong)?;
        let k: u64 = k.trim().parse().map_err(|_| wrong())?;
        let n: u64 = n.trim().parse().map_err(|_| wrong())?;
        Partition::new(k, n).ok_or_else(wrong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slices_cover_every_case_once() {
        for (cases, n) in [(10, 3), (2, 3), (7, 1), (1000, 7)] {
            let mut seen: Vec<u64> = (1..=n)
                .flat_map(|k| Partition::new(k, n).unwrap().cases(cases))
                .collect();
            seen.sort_unstable();
            assert_eq!(
                seen,
                (0..cases).collect::<Vec<_>>(),
                "{cases} cases, {n} slices"
            );
            for k in 1..=n {
                let p = Partition::new(k, n).unwrap();
                assert!(p.cases(cases).all(|c| p.contains(c)));
            }
        }
        assert_eq!(
            Partition::new(2, 3).unwrap().cases(10).collect::<Vec<_>>(),
            [1, 4, 7]
        );
    }

    #[test]
    fn only_k_of_n_parses() {
        assert_eq!("2/3".parse(), Ok(Partition::new(2, 3).unwrap()));
        for bad in ["0/3", "4/3", "x", "1/0", "3", "1/3/4", "-1/3", "1/2000"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }
}
