/// Colour names and the xterm 256-colour palette, for parsing looks and for falling back
/// to the nearest of 16 (or 8) colours.
enum Palette {
    static let names = [
        "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
        "bright-black", "bright-red", "bright-green", "bright-yellow", "bright-blue", "bright-magenta", "bright-cyan",
        "bright-white",
    ]

    static func color(named name: String) throws(ThemeError) -> Theme.Color {
        if name == "default" { return .terminal }
        if let index = names.firstIndex(of: name) { return .indexed(index) }
        if name == "grey" || name == "gray" { return .indexed(8) }
        if let number = Int(name), (0...255).contains(number) { return .indexed(number) }
        throw ThemeError("unknown colour \"\(name)\" (use default, \(names.joined(separator: ", ")), or 0–255)")
    }

    /// The RGB value xterm gives colour `index`.
    static func rgb(_ index: Int) -> (Int, Int, Int) {
        let basic = [
            (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205),
            (229, 229, 229),
            (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255),
            (255, 255, 255),
        ]
        if index < 16 { return basic[index] }
        if index >= 232 {
            let level = 8 + (index - 232) * 10
            return (level, level, level)
        }
        let cube = index - 16
        let steps = [0, 95, 135, 175, 215, 255]
        return (steps[cube / 36], steps[(cube / 6) % 6], steps[cube % 6])
    }

    static func nearest(_ color: Theme.Color, within colors: Int) -> Theme.Color {
        guard case .indexed(let index) = color, index >= colors else { return color }
        guard colors >= 8 else { return .terminal }
        let (r, g, b) = rgb(index)
        let candidates = 0..<min(colors, 16)
        let best = candidates.min { a, b2 in
            let (ar, ag, ab) = rgb(a)
            let (br, bg, bb) = rgb(b2)
            let da = (ar - r) * (ar - r) + (ag - g) * (ag - g) + (ab - b) * (ab - b)
            let db = (br - r) * (br - r) + (bg - g) * (bg - g) + (bb - b) * (bb - b)
            return da < db
        }
        return .indexed(best ?? 7)
    }
}
