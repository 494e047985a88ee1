//! UK civil time without a time-zone database. The parking counts carry Birmingham wall-clock
//! time; the data spans the end of British Summer Time (2016-10-30, 01:00 UTC).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};

/// The UTC instant of a Europe/London wall-clock time: BST (UTC+1) from 01:00 UTC on the last
/// Sunday of March to 01:00 UTC on the last Sunday of October (the rule since 1996), GMT
/// otherwise. In the hour that happens twice each October, the first (BST) one is taken; a time
/// in the hour skipped each March is read as GMT. `None` only for dates chrono cannot hold.
pub fn london_to_utc(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let year = local.year();
    let summer_starts = last_sunday(year, 3)?.and_hms_opt(1, 0, 0)?;
    let summer_ends = last_sunday(year, 10)?.and_hms_opt(1, 0, 0)?;
    let if_summer = local - Duration::hours(1);
    let utc = if (summer_starts..summer_ends).contains(&if_summer) {
        if_summer
    } else {
        local
    };
    Some(Utc.from_utc_datetime(&utc))
}

fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let last_day = NaiveDate::from_ymd_opt(year, month + 1, 1)?.pred_opt()?;
    let back = last_day.weekday().days_since(Weekday::Sun);
    Some(last_day - Duration::days(i64::from(back)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(local: &str) -> String {
        let local = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
        london_to_utc(local)
            .unwrap()
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    #[test]
    fn summer_time_ends_on_the_last_sunday_of_october() {
        assert_eq!(last_sunday(2016, 10), NaiveDate::from_ymd_opt(2016, 10, 30));
        assert_eq!(last_sunday(2016, 3), NaiveDate::from_ymd_opt(2016, 3, 27));
        assert_eq!(last_sunday(2020, 10), NaiveDate::from_ymd_opt(2020, 10, 25));
        // Data days: the counts start at 08:00 local.
        assert_eq!(utc("2016-10-04 08:00"), "2016-10-04 07:00");
        assert_eq!(utc("2016-10-29 16:30"), "2016-10-29 15:30");
        assert_eq!(utc("2016-10-30 08:00"), "2016-10-30 08:00");
        assert_eq!(utc("2016-12-19 16:30"), "2016-12-19 16:30");
        // Around the change (2016-10-30 01:00 UTC): 01:00-02:00 local happens twice.
        assert_eq!(utc("2016-10-30 00:59"), "2016-10-29 23:59");
        assert_eq!(utc("2016-10-30 01:30"), "2016-10-30 00:30");
        assert_eq!(utc("2016-10-30 02:00"), "2016-10-30 02:00");
    }

    #[test]
    fn summer_time_starts_on_the_last_sunday_of_march() {
        assert_eq!(utc("2016-03-27 00:59"), "2016-03-27 00:59");
        assert_eq!(utc("2016-03-27 02:00"), "2016-03-27 01:00");
        assert_eq!(utc("2016-07-01 12:00"), "2016-07-01 11:00");
        assert_eq!(utc("2016-01-15 12:00"), "2016-01-15 12:00");
    }
}
