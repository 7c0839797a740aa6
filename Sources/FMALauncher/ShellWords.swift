/// Splits a command line into words the way a POSIX shell does, without running one: blanks
/// separate words; single quotes keep everything literally; double quotes keep everything but
/// `\"`, `\\`, `\$` and `` \` `` escapes; a backslash outside quotes keeps the next character.
/// No expansion of any kind (`$VAR`, globs, `~`) happens.
public enum ShellWords {
    public struct SplitError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func split(_ line: String) throws(SplitError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var characters = line.makeIterator()
        while let character = characters.next() {
            switch character {
            case " ", "\t", "\n":
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
            case "'":
                inWord = true
                var closed = false
                while let next = characters.next() {
                    if next == "'" { closed = true; break }
                    current.append(next)
                }
                guard closed else { throw SplitError(description: "unterminated single quote in: \(line)") }
            case "\"":
                inWord = true
                var closed = false
                while let next = characters.next() {
                    if next == "\"" { closed = true; break }
                    if next == "\\" {
                        guard let escaped = characters.next() else { break }
                        if !"\"\\$`".contains(escaped) { current.append("\\") }
                        current.append(escaped)
                        continue
                    }
                    current.append(next)
                }
                guard closed else { throw SplitError(description: "unterminated double quote in: \(line)") }
            case "\\":
                inWord = true
                guard let escaped = characters.next() else {
                    throw SplitError(description: "a trailing backslash escapes nothing in: \(line)")
                }
                if escaped != "\n" { current.append(escaped) }
            default:
                inWord = true
                current.append(character)
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// Joins words into one line that `split` turns back into the same words, quoting where needed.
    public static func join(_ words: [String]) -> String {
        words.map { word in
            let safe = !word.isEmpty && word.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_./=:,+@%".unicodeScalars.contains($0)
            }
            return safe ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
