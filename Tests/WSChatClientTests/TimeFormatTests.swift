import Foundation
import Testing
import WSChatClient

@testable import WSChatClient

@Suite("Time formats (time_format in config.toml)")
struct TimeFormatTests {
    static let utc = TimeZone(identifier: "UTC")!

    @Test func fieldsAreZeroPaddedAndTheClockHasTwelveHoursToo() throws {
        // 2026-03-07 00:05:09 UTC and 13:05:09 the same day.
        let midnight: Int64 = 1_772_841_909_000
        let afternoon = midnight + 13 * 3_600_000
        #expect(TimeFormat.standard.format(midnight, timeZone: Self.utc) == "00:05")
        let twelve = try TimeFormat("%I:%M:%S %p")
        #expect(twelve.format(midnight, timeZone: Self.utc) == "12:05:09 AM")
        #expect(twelve.format(afternoon, timeZone: Self.utc) == "01:05:09 PM")
        #expect(
            try TimeFormat("[%Y-%m-%d %H:%M] 100%%").format(afternoon, timeZone: Self.utc) == "[2026-03-07 13:05] 100%")
        #expect(TimeFormat.isoDate.format(-1, timeZone: Self.utc) == "1969-12-31", "before the epoch")
    }

    @Test func theZoneOffsetOfThatInstantApplies() throws {
        let newYork = TimeZone(identifier: "America/New_York")!
        // 2026-01-15 17:00 UTC is 12:00 EST; 2026-07-15 16:00 UTC is 12:00 EDT.
        #expect(TimeFormat.standard.format(1_768_496_400_000, timeZone: newYork) == "12:00")
        #expect(TimeFormat.standard.format(1_784_131_200_000, timeZone: newYork) == "12:00")
        let tokyo = TimeZone(identifier: "Asia/Tokyo")!
        #expect(TimeFormat.isoDate.format(1_768_496_400_000 + 7 * 3_600_000, timeZone: tokyo) == "2026-01-16")
    }

    /// From 1600 on: before October 1582 Foundation's Gregorian calendar is Julian.
    @Test func datesAgreeWithFoundationsCalendarOverFourCenturies() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.utc
        for days in stride(from: Int64(-135_000), through: 146_097, by: 7) {
            let parts = calendar.dateComponents(
                [.year, .month, .day], from: Date(timeIntervalSince1970: Double(days) * 86_400))
            let civil = TimeFormat.civil(days)
            #expect(civil.year == parts.year && civil.month == parts.month && civil.day == parts.day, "day \(days)")
            if civil.year != parts.year || civil.month != parts.month || civil.day != parts.day { return }
        }
    }

    @Test(arguments: [
        ("%H:%Q", "%Q is not a time field"),
        ("%H:%M %", "a % at the end is not a time field"),
        ("", "a time format is 1 to 40 characters"),
    ])
    func unknownFieldsAreRefusedWithWhatIsKnown(_ example: (String, String)) {
        do {
            _ = try TimeFormat(example.0)
            Issue.record("accepted \(example.0)")
        } catch {
            #expect(error.description.hasPrefix(example.1), "\(error)")
        }
    }
}
