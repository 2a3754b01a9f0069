import Foundation

/// Finds theme files: the user's own (`$XDG_CONFIG_HOME/wschat/themes/NAME.toml`) first,
/// then the ones shipped in the repository's `themes/` folder.
public struct ThemeLibrary: Sendable {
    public let directories: [URL]

    public init(directories: [URL]) {
        self.directories = directories
    }

    /// The user's theme folder and the shipped one (found next to the executable's build
    /// folder, or named by `WSCHAT_THEMES`).
    public static func standard(configDirectory: URL, environment: [String: String], executable: URL) -> ThemeLibrary {
        var directories = [configDirectory.appendingPathComponent("themes")]
        if let override = environment["WSCHAT_THEMES"] { directories.append(URL(fileURLWithPath: override)) }
        var folder = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            directories.append(folder.appendingPathComponent("themes"))
            folder.deleteLastPathComponent()
        }
        directories.append(URL(fileURLWithPath: "/usr/share/wschat/themes"))
        return ThemeLibrary(directories: directories)
    }

    /// Loads theme `name`; problems in the file are returned with the theme that still applies.
    public func load(_ name: String) throws -> (theme: Theme, problems: [String]) {
        if name == "mono" && file(for: name) == nil { return (Theme.mono, []) }
        guard let file = file(for: name) else {
            throw ThemeError(
                "no theme \"\(name)\": the themes are \(available.joined(separator: ", ")); add your own as "
                    + "\(directories[0].path)/NAME.toml")
        }
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw ThemeError("cannot read \(file.path): \(error.localizedDescription)")
        }
        return try Theme.parse(text, name: name)
    }

    /// Every theme that can be loaded by name, in order.
    public var available: [String] {
        let files = directories.flatMap { directory in
            (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        }
        let names = files.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(".toml".count)) }
        return Set(names + ["mono"]).sorted()
    }

    func file(for name: String) -> URL? {
        guard !name.contains("/") else { return nil }
        return directories.map { $0.appendingPathComponent("\(name).toml") }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }
}
