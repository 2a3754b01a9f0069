import WSChatClient
import WSChatProtocol

extension ChatModel {
    /// The one `update`: folds an event into the model and says what to do about it.
    public mutating func handle(_ event: UIEvent) -> [Effect] {
        switch event {
        case .engine(let engineEvent):
            return apply(engineEvent)
        case .resize(let width, let height):
            self.width = width
            self.height = height
            return []
        case .paste(let text):
            completion = nil
            var normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(
                of: "\r", with: "\n")
            // Copied lines usually end in a newline: it ends the last line, it is not another one.
            while normalised.hasSuffix("\n") { normalised.removeLast() }
            if normalised.split(separator: "\n", omittingEmptySubsequences: false).count > Self.pasteConfirmLines {
                pendingPaste = normalised
            } else {
                editor.insert(normalised)
            }
            return []
        case .click(let x, let y):
            if x < layout.channelWidth, y >= 1 {
                switchTo(y - 1)
            }
            return []
        case .wheel(let lines):
            return scroll(by: -lines)
        case .key(let key):
            if pendingPaste != nil { return answerPaste(key) }
            return press(key)
        }
    }

    private mutating func answerPaste(_ key: Key) -> [Effect] {
        switch key {
        case .character("y"), .character("Y"), .enter:
            editor.insert(pendingPaste ?? "")
            pendingPaste = nil
        case .character("n"), .character("N"), .escape, .control("c"):
            pendingPaste = nil
        default:
            break
        }
        return []
    }

    private mutating func press(_ key: Key) -> [Effect] {
        if key != .tab { completion = nil }
        if let digits = bufferJump {
            // Alt-J and two digits: buffer 01–99. Any other key ends it and does its own work.
            bufferJump = nil
            if case .character(let character) = key, let digit = character.wholeNumberValue, character.isASCII {
                if digits.isEmpty {
                    bufferJump = String(digit)
                } else if let number = Int(digits + String(digit)) {
                    switchToBuffer(number: number)
                }
                return []
            }
        }
        switch key {
        case .character(let character): editor.insert(String(character))
        case .enter: return submit()
        case .backspace, .control("h"): editor.deleteBackward()
        case .delete, .control("d"): editor.deleteForward()
        case .left, .control("b"): editor.moveLeft()
        case .right, .control("f"): editor.moveRight()
        case .home, .control("a"): editor.moveHome()
        case .end, .control("e"): editor.moveEnd()
        case .wordLeft, .alt("b"): editor.moveWordLeft()
        case .wordRight, .alt("f"): editor.moveWordRight()
        case .control("k"): editor.killToEnd()
        case .control("u"): editor.killToStart()
        case .control("w"): editor.killWordBackward()
        case .control("y"): editor.yank()
        case .up: recallHistory(older: true)
        case .down: recallHistory(older: false)
        case .pageUp: return scroll(by: max(1, layout.messageRows - 2))
        case .pageDown: return scroll(by: -max(1, layout.messageRows - 2))
        case .function(7): showNickList.toggle()
        case .tab: complete()
        case .control("n"): switchTo((current + 1) % buffers.count)
        case .control("p"): switchTo((current + buffers.count - 1) % buffers.count)
        case .alt("j"): bufferJump = ""
        case .alt(let character):
            // Alt-1…9, and Alt-0 for buffer 10.
            if let digit = character.wholeNumberValue, character.isASCII { switchTo(digit == 0 ? 9 : digit - 1) }
        case .control("c"): return quit(reason: nil)
        default: break
        }
        return []
    }

    /// Scrolling up into the buffer's first line asks the server for older messages.
    private mutating func scroll(by lines: Int) -> [Effect] {
        let maximum = Renderer.scrollLimit(self)
        buffers[current].scrollBack = min(maximum, max(0, buffers[current].scrollBack + lines))
        return lines > 0 && buffers[current].scrollBack == maximum ? reachedTop() : []
    }

    private mutating func complete() {
        if var active = completion {
            active.index = (active.index + 1) % active.candidates.count
            editor.replace(active.range.lowerBound..<editor.caret, with: active.current)
            completion = active
        } else if let started = Completion.start(for: editor, in: self) {
            editor.replace(started.range, with: started.current)
            completion = started
        }
    }

    private mutating func recallHistory(older: Bool) {
        var buffer = buffers[current]
        guard !buffer.history.isEmpty else { return }
        if buffer.historyCursor == nil {
            guard older else { return }
            buffer.draft = editor.text
            buffer.historyCursor = buffer.history.count
        }
        let next = (buffer.historyCursor ?? 0) + (older ? -1 : 1)
        if next < 0 { return }
        if next >= buffer.history.count {
            buffer.historyCursor = nil
            editor.set(buffer.draft)
        } else {
            buffer.historyCursor = next
            editor.set(buffer.history[next])
        }
        buffers[current] = buffer
    }

    /// Enter: the line becomes a message or a command; it never leaves as text by mistake.
    private mutating func submit() -> [Effect] {
        let line = editor.take()
        guard !line.allSatisfy(\.isWhitespace) else { return [] }
        let isText = !line.hasPrefix("/") || line.hasPrefix("//")
        if isText, currentRoom == nil, currentPeer == nil, let first = roomsToJoin.first {
            editor.set(line)
            note(.notice("not in a room yet: you join #\(first) once connected; your line is kept below"))
            return []
        }
        buffers[current].history.append(line)
        buffers[current].historyCursor = nil
        buffers[current].scrollBack = 0
        switch InputLine.parse(line, room: currentRoom, dmPeer: currentPeer) {
        case .empty:
            return []
        case .invalid(let message):
            note(.error(message))
            return []
        case .local(let command, let argument):
            return runLocal(command, argument)
        case .command(let command):
            if let text = command.typedText {
                do throws(ProtocolError) {
                    try TextRules.validateMessage(text, maxBytes: maxMessageBytes)
                } catch {
                    // Kept in the input line, to shorten or split: nothing was sent.
                    editor.set(line)
                    note(.error("not sent: \(error.message)"))
                    return []
                }
            }
            switch command {
            case .join(let room):
                switchToRoom = room
                if let index = index(of: .room(key: Self.key(room: room))) { switchTo(index) }
            case .directMessage(let peer, _):
                let opened = index(of: .direct(key: Self.key(nick: peer))) == nil
                switchTo(directBuffer(peer))
                // The conversation so far, above the message about to be sent.
                if opened { return askOlder(in: current, before: nil) + [.perform(command)] }
            case .part(let room):
                if index(of: .room(key: Self.key(room: room))) == nil {
                    note(.error("you are not in #\(room)"))
                    return []
                }
            case .quit(let reason):
                return quit(reason: reason)
            default:
                break
            }
            return [.perform(command)]
        }
    }

    /// Quits at once, unless messages are still sending: then the engine is given
    /// `quitDrain` to deliver them and the UI ends when it stops. Asking again quits at once;
    /// whatever was not delivered is listed when the terminal is restored.
    private mutating func quit(reason: String?) -> [Effect] {
        let sending = buffers.reduce(0) { count, buffer in
            count + buffer.lines.count { if case .pending = $0.content { true } else { false } }
        }
        guard sending > 0, !isQuitting else { return [.perform(.quit(reason: reason)), .quit] }
        isQuitting = true
        let seconds = Self.quitDrain.components.seconds
        note(
            .notice(
                "\(sending) message\(sending == 1 ? " is" : "s are") still sending: quitting once "
                    + "\(sending == 1 ? "it is" : "they are") delivered (at most \(seconds) s); Ctrl-C quits now"))
        return [.perform(.quitWhenDelivered(within: Self.quitDrain, reason: reason))]
    }

    private mutating func runLocal(_ command: LocalCommand, _ argument: String) -> [Effect] {
        switch command {
        case .help:
            help(argument.trimmingCharacters(in: .whitespaces))
        case .clear:
            buffers[current].lines.removeAll()
            buffers[current].readMarker = nil
            buffers[current].scrollBack = 0
        case .theme:
            return [.theme(argument)]
        case .showTopic:
            guard let index = index(of: .room(key: Self.key(room: argument))) else {
                note(.error("you are not in #\(argument)"))
                return []
            }
            let topic = buffers[index].topic
            note(
                .notice(
                    topic.isEmpty
                        ? "#\(buffers[index].name) has no topic" : "topic of #\(buffers[index].name): \(topic)"))
        case .close:
            return closeCurrentBuffer()
        case .ignore:
            return ignore(argument)
        case .unignore:
            return unignore(argument)
        case .nickList:
            showNickList.toggle()
        case .goto:
            return goToMatch(number: Int(argument) ?? 0)
        case .links:
            if recentLinks.isEmpty {
                note(.notice("no links yet: /url lists the links of the latest messages"))
            }
            for (number, link) in recentLinks.enumerated() {
                note(.notice("\(number + 1). \(link.url) — \(link.from) in \(link.place)"))
            }
        case .buffer:
            if let number = Int(argument) {
                switchToBuffer(number: number)
            } else if let index = buffer(named: argument) {
                switchTo(index)
            } else {
                note(.error("no buffer named \(argument): the channel list shows them all; /buffer N takes its number"))
            }
        }
        return []
    }

    private mutating func ignore(_ nick: String) -> [Effect] {
        if nick.isEmpty {
            note(.notice(ignored.isEmpty ? "nobody is ignored" : "ignored: \(ignored.joined(separator: " "))"))
            return []
        }
        do throws(ProtocolError) {
            let valid = try Nick(validating: nick)
            guard valid.key != Self.key(nick: self.nick) else {
                note(.error("you cannot ignore yourself"))
                return []
            }
            guard !isIgnored(valid.name) else {
                note(.notice("\(valid.name) is already ignored (/unignore \(valid.name) shows their messages again)"))
                return []
            }
            setIgnored(ignored + [valid.name])
            note(
                .notice(
                    "ignoring \(valid.name): their messages and DMs are not shown from now on "
                        + "(/unignore \(valid.name) shows them again)"))
            return [.saveIgnored(ignored)]
        } catch {
            note(.error("cannot ignore \(nick): \(error.message)"))
            return []
        }
    }

    private mutating func unignore(_ nick: String) -> [Effect] {
        let key = Self.key(nick: nick)
        guard let found = ignored.first(where: { Self.key(nick: $0) == key }) else {
            note(
                .error(
                    "\(nick) is not ignored\(ignored.isEmpty ? "" : " (ignored: \(ignored.joined(separator: " ")))")"))
            return []
        }
        setIgnored(ignored.filter { $0 != found })
        note(.notice("\(found) is no longer ignored: their new messages are shown"))
        return [.saveIgnored(ignored)]
    }

    /// Switches to buffer `number` as the channel list numbers them (from 1).
    private mutating func switchToBuffer(number: Int) {
        guard buffers.indices.contains(number - 1) else {
            note(.error("no buffer \(number): there \(buffers.count == 1 ? "is 1" : "are \(buffers.count)")"))
            return
        }
        switchTo(number - 1)
    }

    /// The buffer whose name is `name` (any case, with or without `#` or `@`), else the only
    /// one it begins.
    private func buffer(named name: String) -> Int? {
        let wanted = String(name.drop { $0 == "#" || $0 == "@" }).lowercased()
        guard !wanted.isEmpty else { return nil }
        let names = buffers.map { $0.name.lowercased() }
        if let exact = names.firstIndex(of: wanted) { return exact }
        let starting = names.indices.filter { names[$0].hasPrefix(wanted) }
        return starting.count == 1 ? starting[0] : nil
    }

    /// `/close`: a room is left (its buffer goes when the server confirms), a DM buffer is
    /// closed at once; the server buffer stays.
    private mutating func closeCurrentBuffer() -> [Effect] {
        switch currentBuffer.kind {
        case .server:
            note(.error("the server buffer stays open; /quit leaves"))
            return []
        case .room:
            return [.perform(.part(room: currentBuffer.name))]
        case .direct:
            let closing = current
            buffers.remove(at: closing)
            current = max(0, closing - 1)
            return []
        }
    }

    private mutating func help(_ topic: String) {
        let wanted = topic.hasPrefix("/") ? String(topic.dropFirst()) : topic
        if wanted.isEmpty {
            note(.notice("commands (Tab completes them; /help COMMAND for one):"))
            for command in SlashCommand.all.sorted(by: { $0.name < $1.name }) {
                note(.notice("  \(command.usage) — \(command.summary)"))
            }
            note(
                .notice(
                    "keys: Alt-1…9 and Alt-0, Alt-J and two digits (buffer 01–99), Ctrl-N/Ctrl-P or a click switch buffers; PgUp/PgDn and the wheel scroll (past the top: older messages from the server); F7 shows the nick list"
                ))
        } else if let command = SlashCommand.named(wanted) {
            note(.notice("\(command.usage) — \(command.summary)"))
            note(.notice("  example: \(command.example)"))
            if !command.aliases.isEmpty {
                note(.notice("  also: \(command.aliases.map { "/\($0)" }.joined(separator: " "))"))
            }
        } else {
            note(.error("no command /\(wanted) — /help lists the commands"))
        }
    }
}

extension UserCommand {
    /// The text a `say` or `dm` would send.
    var typedText: String? {
        switch self {
        case .say(_, let text, _), .directMessage(_, let text): text
        default: nil
        }
    }
}
