import CICUSpoof
import Foundation

/// The Unicode TS #39 "skeleton" of a string, from ICU's spoof checker: two strings that a
/// reader could mistake for each other (`paypal`, `pаypаl` with Cyrillic а) have the same one.
/// Skeletons are for comparing only; they are not readable names.
enum ConfusableSkeleton {
    /// The skeletons of a case-insensitive name: of its case fold (`АLICE` with a Cyrillic А
    /// folds to `аlice`, which looks like `alice`), and the case fold of the skeleton of its
    /// form as shown (`AIice` with a capital I looks like `Alice`, which is `alice`).
    static func of(shown name: String, folded key: String) -> Set<String> {
        [of(key), NameRules.fold(of(name.precomposedStringWithCompatibilityMapping))]
    }

    /// ICU documents a spoof checker as safe to use from several threads once configured;
    /// this one is never reconfigured.
    nonisolated(unsafe) private static let checker = wschat_spoof_open()

    static func of(_ text: String) -> String {
        guard let checker else { return text }
        var utf8 = Array(text.utf8)
        let length = Int32(utf8.count)
        var capacity = max(64, utf8.count * 4)
        while true {
            var out = [CChar](repeating: 0, count: capacity)
            let written = utf8.withUnsafeMutableBufferPointer { input in
                input.withMemoryRebound(to: CChar.self) { chars in
                    wschat_spoof_skeleton(checker, chars.baseAddress, length, &out, Int32(capacity))
                }
            }
            if written < 0 { return text }
            if Int(written) <= capacity {
                return String(decoding: out.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            capacity = Int(written) + 1
        }
    }
}
