//! Wave dates: a tiny proleptic-Gregorian civil date (no time zones, no clock) and the business-day
//! calendar the schedule uses. Dates are `YYYY-MM-DD` strings at the edges.

use std::collections::BTreeSet;
use std::fmt;

/// A calendar date, stored as days since 1970-01-01 (negative before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i64);

impl Date {
    /// Builds a date from year, month (1-12) and day; `None` when the date does not exist.
    pub fn from_ymd(y: i64, m: u32, d: u32) -> Option<Date> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || !(1..=9999).contains(&y) {
            return None;
        }
        Some(Date(days_from_civil(y, m, d)))
    }

    /// Parses `YYYY-MM-DD` (also accepts a trailing `T...` time part, which is ignored).
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        let s = s.split(['T', ' ']).next().unwrap_or(s);
        let mut parts = s.split('-');
        let y = parts.next()?;
        let m = parts.next()?;
        let d = parts.next()?;
        if parts.next().is_some()
            || y.len() != 4
            || m.is_empty()
            || m.len() > 2
            || d.is_empty()
            || d.len() > 2
        {
            return None;
        }
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(y) || !all_digits(m) || !all_digits(d) {
            return None;
        }
        Date::from_ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }

    /// Date from an Excel serial day number (1900 date system: day 25569 = 1970-01-01).
    pub fn from_excel_serial(serial: f64) -> Option<Date> {
        if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
            return None;
        }
        Some(Date(serial.floor() as i64 - 25_569))
    }

    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.0)
    }

    pub fn add_days(self, n: i64) -> Date {
        Date(self.0 + n)
    }

    /// 0 = Monday ... 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (self.0 + 3).rem_euclid(7) as u32
    }

    pub fn is_weekend(self) -> bool {
        self.weekday() >= 5
    }

    pub fn weekday_name(self) -> &'static str {
        [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ]
        .get(self.weekday() as usize)
        .copied()
        .unwrap_or("?")
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Which days a wave may fall on.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// When true, Saturdays and Sundays are skipped.
    pub business_days: bool,
    pub holidays: BTreeSet<Date>,
}

impl Calendar {
    pub fn is_working(&self, d: Date) -> bool {
        let weekend = self.business_days && d.is_weekend();
        !weekend && !self.holidays.contains(&d)
    }

    /// The first working day on or after `d`.
    pub fn roll_forward(&self, d: Date) -> Date {
        let mut d = d;
        // Bounded: at most a weekend plus every holiday in a row.
        for _ in 0..(self.holidays.len() + 8) {
            if self.is_working(d) {
                return d;
            }
            d = d.add_days(1);
        }
        d
    }

    /// `n` calendar days after `d`, rolled forward to a working day.
    pub fn after(&self, d: Date, n: i64) -> Date {
        self.roll_forward(d.add_days(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_weekdays() {
        for (s, wd) in [
            ("1970-01-01", 3),
            ("2000-02-29", 1),
            ("2026-11-26", 3),
            ("2024-12-31", 1),
            ("1999-12-31", 4),
        ] {
            let d = Date::parse(s).unwrap();
            assert_eq!(d.to_string(), s);
            assert_eq!(d.weekday(), wd, "{s}");
        }
        for z in -800_000..800_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn rejects_impossible_dates() {
        for s in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "26-01-01",
            "2026-1-",
            "2026/01/01",
            "",
            "2026-01-01-01",
            "20x6-01-01",
        ] {
            assert!(Date::parse(s).is_none(), "{s}");
        }
        assert!(Date::parse("2028-02-29").is_some());
        assert_eq!(
            Date::parse("2026-12-07T00:00:00").unwrap().to_string(),
            "2026-12-07"
        );
    }

    #[test]
    fn excel_serials() {
        assert_eq!(
            Date::from_excel_serial(46_000.0).unwrap().to_string(),
            "2025-12-09"
        );
        assert_eq!(
            Date::from_excel_serial(25_569.5).unwrap().to_string(),
            "1970-01-01"
        );
        assert!(Date::from_excel_serial(f64::NAN).is_none());
    }

    #[test]
    fn business_calendar_skips_weekends_and_holidays() {
        let mut c = Calendar {
            business_days: true,
            ..Default::default()
        };
        let fri = Date::parse("2026-11-27").unwrap();
        assert_eq!(c.after(fri, 1).to_string(), "2026-11-30");
        c.holidays.insert(Date::parse("2026-11-30").unwrap());
        assert_eq!(c.after(fri, 1).to_string(), "2026-12-01");
        let cal = Calendar::default();
        assert_eq!(cal.after(fri, 1).to_string(), "2026-11-28");
    }
}
