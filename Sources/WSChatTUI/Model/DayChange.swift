import Foundation

/// The day a line's time falls on, in the user's time zone, and the line that says a new one
/// began ("── Tuesday 1 December 2026 ──"). Lines arrive in time order, so a buffer keeps the
/// span of its newest line's day and asks the calendar only for a line outside it.
struct DayChange {
    let timeZone: TimeZone

    /// The day holding `milliseconds`, as a span of Unix milliseconds.
    func day(of milliseconds: Int64) -> Range<Int64> {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        let start = calendar.startOfDay(for: date)
        let end = calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400)
        return Int64(start.timeIntervalSince1970 * 1000)..<Int64(end.timeIntervalSince1970 * 1000)
    }

    func line(for milliseconds: Int64) -> BufferLine {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = timeZone
        formatter.dateFormat = "EEEE d MMMM yyyy"
        let text = formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        return BufferLine(time: nil, content: .event("── \(text) ──"))
    }

    /// `lines` (oldest first) with a day line before each that starts a day other than the
    /// previous line's; `previous` is the day of the line before them, if any.
    func inserting(into lines: [BufferLine], after previous: Range<Int64>?) -> (
        lines: [BufferLine], last: Range<Int64>?
    ) {
        var result: [BufferLine] = []
        var current = previous
        for line in lines {
            if let time = line.time, current?.contains(time) != true {
                if current != nil { result.append(self.line(for: time)) }
                current = day(of: time)
            }
            result.append(line)
        }
        return (result, current)
    }
}
