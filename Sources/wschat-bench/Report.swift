import Foundation
import Histogram

/// One run's results: printed as one JSON line (keys in a fixed order) and a short summary.
struct Report {
    enum Value {
        case int(Int)
        case double(Double)
        case string(String)
        case latencies(Histogram<UInt64>)
    }

    private var fields: [(String, Value)] = []
    private var cpuSummary: [String] = []

    init(scenario: String, label: String, protocol: String) {
        self["scenario"] = .string(scenario)
        self["label"] = .string(label)
        self["protocol"] = .string(`protocol`)
    }

    subscript(key: String) -> Value? {
        get { fields.first { $0.0 == key }?.1 }
        set {
            fields.removeAll { $0.0 == key }
            if let newValue { fields.append((key, newValue)) }
        }
    }

    /// Server and own CPU over the run, and the server's CPU per unit of work.
    mutating func addCPU(
        server: (ProcessStats?, ProcessStats?), own: (ProcessStats, ProcessStats), per units: Int, unit: String
    ) {
        let ownCPU = own.1.cpu - own.0.cpu
        self["benchCPUSeconds"] = .double(ownCPU.seconds)
        if let before = server.0, let after = server.1 {
            let serverCPU = after.cpu - before.cpu
            self["serverCPUSeconds"] = .double(serverCPU.seconds)
            let perUnit = units > 0 ? serverCPU.microseconds / Double(units) : 0
            self["serverCPUMicrosecondsPer\(unit.prefix(1).uppercased() + unit.dropFirst())"] = .double(perUnit)
            cpuSummary = [
                "server CPU \(String(format: "%.2f", serverCPU.seconds)) s = \(String(format: "%.2f", perUnit)) µs per \(unit);"
                    + " benchmark CPU \(String(format: "%.2f", ownCPU.seconds)) s"
            ]
        } else {
            cpuSummary = [
                "benchmark CPU \(String(format: "%.2f", ownCPU.seconds)) s (no --server-pid: server CPU unknown)"
            ]
        }
    }

    static func describe(_ histogram: Histogram<UInt64>) -> String {
        guard histogram.totalCount > 0 else { return "none" }
        return [50.0, 90, 99, 99.9].map { "p\(format($0)) \(ms(histogram.valueAtPercentile($0)))" }
            .joined(separator: ", ") + ", max \(ms(histogram.max))"
    }

    private static func ms(_ microseconds: UInt64) -> String { String(format: "%.2f", Double(microseconds) / 1000) }
    private static func format(_ percentile: Double) -> String {
        percentile == percentile.rounded() ? String(Int(percentile)) : String(percentile)
    }

    func print(summary: [String]) {
        var json: [String] = []
        for (key, value) in fields {
            let encoded: String
            switch value {
            case .int(let number): encoded = String(number)
            case .double(let number): encoded = String(format: "%.3f", number)
            case .string(let text): encoded = "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
            case .latencies(let histogram):
                let points = [50.0, 90, 99, 99.9].map {
                    "\"p\(Self.format($0))\":\(Self.ms(histogram.valueAtPercentile($0)))"
                }
                encoded =
                    "{"
                    + (points + ["\"max\":\(Self.ms(histogram.max))", "\"count\":\(histogram.totalCount)"])
                    .joined(separator: ",") + "}"
            }
            json.append("\"\(key)\":\(encoded)")
        }
        Swift.print("{" + json.joined(separator: ",") + "}")
        for line in summary + cpuSummary { Swift.print("  " + line) }
    }
}
