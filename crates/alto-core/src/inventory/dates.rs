//! The day order of a column of `a/b/yyyy` dates, decided for the whole column, never per row.
//!
//! Any first field above 12 makes the column day-first, any second field above 12 month-first;
//! both in one column and the file is refused; neither (every field at most 12) and the column
//! is ambiguous, so the file is refused unless the caller says which (`--date-order`, or a
//! preset). A column without evidence takes the order of the file's other date column when that
//! one has it (one tool wrote both); two columns that disagree refuse the file.

use crate::time::{DateOrder, slash_fields};

/// Evidence gathered over one column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OrderEvidence {
    /// Values of the `a/b/yyyy` form seen.
    pub(crate) seen: u64,
    /// First line where the first field was above 12, and that value's fields.
    pub(crate) day_first: Option<(u64, u32, u32)>,
    /// First line where the second field was above 12.
    pub(crate) month_first: Option<(u64, u32, u32)>,
}

impl OrderEvidence {
    pub(crate) fn add(&mut self, line: u64, value: &str) {
        if let Some((a, b)) = slash_fields(value) {
            self.seen += 1;
            if a > 12 && self.day_first.is_none() {
                self.day_first = Some((line, a, b));
            }
            if b > 12 && self.month_first.is_none() {
                self.month_first = Some((line, a, b));
            }
        }
    }
}

/// The decision for each column (`None`: no `a/b/yyyy` values, or none needed), or why the file
/// is refused. `columns` names the columns for messages.
pub(crate) fn decide(
    evidence: &[OrderEvidence],
    columns: &[&str],
) -> Result<Vec<Option<DateOrder>>, String> {
    let mut out = Vec::with_capacity(evidence.len());
    for (ev, name) in evidence.iter().zip(columns) {
        out.push(match (ev.day_first, ev.month_first) {
            (Some((l1, a1, b1)), Some((l2, a2, b2))) => {
                return Err(format!(
                    "column {name} mixes date orders: line {l1} has {a1}/{b1}/… (day first), \
                     line {l2} has {a2}/{b2}/… (month first); the file is refused rather than \
                     read with some dates wrong"
                ));
            }
            (Some(_), None) => Some(DateOrder::Dmy),
            (None, Some(_)) => Some(DateOrder::Mdy),
            (None, None) => None,
        });
    }
    let decided: Vec<DateOrder> = out.iter().flatten().copied().collect();
    if decided.windows(2).any(|w| w[0] != w[1]) {
        return Err(format!(
            "the date columns disagree: {} is {} and {} is {}; the file is refused",
            columns[0],
            describe(out[0]),
            columns[1],
            describe(out[1])
        ));
    }
    for (i, ev) in evidence.iter().enumerate() {
        if out[i].is_none() && ev.seen > 0 {
            match decided.first() {
                Some(o) => out[i] = Some(*o),
                None => {
                    return Err(format!(
                        "column {}: {} dates like a/b/yyyy, none with a field above 12, so \
                         day-first and month-first both fit; say which with --date-order dmy \
                         (day first) or --date-order mdy (month first)",
                        columns[i], ev.seen
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn describe(o: Option<DateOrder>) -> &'static str {
    match o {
        Some(DateOrder::Dmy) => "day-first",
        Some(DateOrder::Mdy) => "month-first",
        None => "undecided",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(values: &[&[&str]]) -> Result<Vec<Option<DateOrder>>, String> {
        let mut ev = vec![OrderEvidence::default(); values.len()];
        for (c, col) in values.iter().enumerate() {
            for (i, v) in col.iter().enumerate() {
                ev[c].add(i as u64 + 2, v);
            }
        }
        decide(&ev, &["last_modified", "last_accessed"][..values.len()])
    }

    #[test]
    fn per_column_decisions() {
        let dmy = Some(DateOrder::Dmy);
        let mdy = Some(DateOrder::Mdy);
        assert_eq!(run(&[&["1/2/2025", "20/11/2025 14:03"]]), Ok(vec![dmy]));
        assert_eq!(run(&[&["1/2/2025", "11/20/2025 2:03 PM"]]), Ok(vec![mdy]));
        let e = run(&[&["20/1/2025", "1/20/2025"]]).unwrap_err();
        assert!(
            e.contains("mixes date orders") && e.contains("line 2"),
            "{e}"
        );
        let e = run(&[&["1/2/2025", "3/4/2025"]]).unwrap_err();
        assert!(e.contains("--date-order"), "{e}");
        // The other column decides an ambiguous one.
        assert_eq!(run(&[&["1/2/2025"], &["13/2/2025"]]), Ok(vec![dmy, dmy]));
        let e = run(&[&["13/2/2025"], &["2/13/2025"]]).unwrap_err();
        assert!(e.contains("disagree"), "{e}");
        assert_eq!(run(&[&["2025-01-02T00:00:00Z"]]), Ok(vec![None]));
    }

    proptest! {
        /// Whatever the dates, a column is never read in both orders: the decision is one order
        /// for every row, and it is only made when the column's own values allow no other.
        #[test]
        fn never_mixes_orders(dates in proptest::collection::vec((1u32..=31, 1u32..=31), 1..60)) {
            let values: Vec<String> = dates.iter().map(|(a, b)| format!("{a}/{b}/2024")).collect();
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let any_a = dates.iter().any(|(a, _)| *a > 12);
            let any_b = dates.iter().any(|(_, b)| *b > 12);
            match run(&[&refs]) {
                Ok(orders) => {
                    let o = orders[0];
                    prop_assert!(!(any_a && any_b));
                    prop_assert!(any_a || any_b);
                    prop_assert_eq!(o, Some(if any_a { DateOrder::Dmy } else { DateOrder::Mdy }));
                    // Every row read in that one order: the day field is the one allowed above 12.
                    for (a, b) in &dates {
                        let (day, month) = if any_a { (*a, *b) } else { (*b, *a) };
                        prop_assert!(month <= 12 || day > 31, "{} {}", day, month);
                    }
                }
                Err(_) => prop_assert!((any_a && any_b) || (!any_a && !any_b)),
            }
        }
    }
}
