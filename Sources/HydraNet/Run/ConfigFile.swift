import Foundation
import Yams

/// `--config run.yaml`: a YAML mapping whose keys are a command's long flag names (without
/// `--`), supplying values for any of its flags. The file is turned into argument tokens, so
/// it means exactly what the same flags would mean on the command line:
///
/// ```yaml
/// epochs: 5                    # --epochs=5
/// weighting: upgrad            # --weighting=upgrad
/// small-stem: true             # --small-stem (false: the flag is left out)
/// flip-tta: false              # --no-flip-tta (a flag with an inversion)
/// task: [age:regression, "hair:multiclass:black,brown"]   # --task=… once per item
/// pretrained: ~                # null: left out (the flag's default)
/// ```
///
/// Flags given on the command line override the file: a key whose flag the command line
/// also gives is left out entirely (for a repeated flag such as `--task`, the command line's
/// values replace the file's list).
public enum ConfigFile {
    /// The argument tokens (`--key=value`, `--key` for a true boolean) of the YAML mapping
    /// `text`, in the file's order.
    ///
    /// - Parameters:
    ///   - source: names the file in error messages.
    ///   - knownKeys: the flags the command takes (long names without `--`); any other key is
    ///     an error. nil accepts every key.
    ///   - excluding: keys to leave out (those the command line gives).
    /// - Throws: `HydraError.invalidConfiguration` naming the file (and line) for YAML that
    ///   does not parse, a document that is not a mapping, a nested mapping, an unknown key.
    public static func arguments(yaml text: String, source: String, knownKeys: Set<String>? = nil,
                                 excluding: Set<String> = []) throws -> [String] {
        func fail(_ message: String, _ node: Node? = nil) -> HydraError {
            let line = node?.mark.map { ", line \($0.line)" } ?? ""
            return .invalidConfiguration("config file \(source)\(line): \(message)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw fail("not valid YAML: \(error)")
        }
        guard let root else { return [] }  // an empty file (or only comments) sets nothing
        guard let mapping = root.mapping else {
            throw fail("expected a mapping of flag names to values (e.g. 'epochs: 5'), found a "
                + (root.sequence != nil ? "list" : "single value"), root)
        }
        var tokens: [String] = []
        var seen = Set<String>()
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string, !key.isEmpty else {
                throw fail("every key must be a flag name", keyNode)
            }
            let name = key.hasPrefix("--") ? String(key.dropFirst(2)) : key
            guard seen.insert(name).inserted else { throw fail("key '\(name)' appears twice", keyNode) }
            if name == "config" { throw fail("a config file cannot name another config file", keyNode) }
            if let knownKeys, !knownKeys.contains(name) {
                throw fail("unknown key '\(name)'; the command's flags are: "
                    + knownKeys.subtracting(["config"]).sorted().joined(separator: ", "), keyNode)
            }
            if excluding.contains(name) { continue }
            switch value {
            case let .scalar(scalar):
                if isTag(value, Tag.Name.null) { continue }
                // Only `true`/`false` are booleans (YAML 1.2): `off`, `no`, `on`, `yes` are the
                // words they are, e.g. `tensorboard: off`.
                if isTag(value, Tag.Name.bool), ["true", "false"].contains(scalar.string.lowercased()) {
                    if value.bool == true {
                        tokens.append("--\(name)")
                    } else if knownKeys?.contains("no-\(name)") == true, !excluding.contains("no-\(name)") {
                        // A flag with an inversion (--flip-tta/--no-flip-tta): false is the inversion.
                        tokens.append("--no-\(name)")
                    }
                    continue
                }
                tokens.append("--\(name)=\(scalar.string)")
            case let .sequence(items):
                for item in items {
                    guard let scalar = item.scalar, !isTag(item, Tag.Name.null) else {
                        throw fail("the list of '\(name)' may hold only single values", item)
                    }
                    tokens.append("--\(name)=\(scalar.string)")
                }
            default:
                throw fail("the value of '\(name)' is a mapping; give a single value or a list", value)
            }
        }
        return tokens
    }

    /// ``arguments(yaml:source:knownKeys:excluding:)`` of the file at `path`.
    public static func arguments(file path: String, knownKeys: Set<String>? = nil,
                                 excluding: Set<String> = []) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw HydraError.invalidConfiguration("config file \(path): " + (exists ? "cannot be read" : "no such file"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw HydraError.invalidConfiguration("config file \(path): not UTF-8 text")
        }
        return try arguments(yaml: text, source: path, knownKeys: knownKeys, excluding: excluding)
    }

    /// A command line (without the program name) with `--config FILE` (or `--config=FILE`)
    /// replaced by the file's tokens, which go right after the leading subcommand names (so
    /// they reach the subcommand's flags); a command line without `--config` comes back as it
    /// is. Keys whose flags the command line gives are left out of the file's tokens (the
    /// command line overrides the file). Nothing after a `--` terminator is looked at.
    ///
    /// - Parameters:
    ///   - subcommands: the names of subcommands (of any level).
    ///   - knownKeys: the flags of the command that the leading subcommand names select (an
    ///     empty list for the default command); nil accepts every key.
    public static func expand(_ arguments: [String], subcommands: Set<String>,
                              knownKeys: ([String]) -> Set<String>? = { _ in nil }) throws -> [String] {
        let terminator = arguments.firstIndex(of: "--") ?? arguments.endIndex
        var rest: [String] = []
        var file: String?
        var i = 0
        while i < arguments.count {
            let token = arguments[i]
            if i < terminator, token == "--config" || token.hasPrefix("--config=") {
                guard file == nil else { throw HydraError.invalidConfiguration("--config is given more than once") }
                if token == "--config" {
                    guard i + 1 < terminator, !arguments[i + 1].hasPrefix("-") || arguments[i + 1] == "-" else {
                        throw HydraError.invalidConfiguration("--config needs a file name (a YAML file of flag values)")
                    }
                    file = arguments[i + 1]
                    i += 2
                } else {
                    file = String(token.dropFirst("--config=".count))
                    i += 1
                }
                continue
            }
            rest.append(token)
            i += 1
        }
        guard let file else { return arguments }
        guard !file.isEmpty else { throw HydraError.invalidConfiguration("--config needs a file name") }
        let restTerminator = rest.firstIndex(of: "--") ?? rest.endIndex
        let given = Set(rest[..<restTerminator].compactMap { token -> String? in
            guard token.hasPrefix("--"), token.count > 2 else { return nil }
            return String(token.dropFirst(2).prefix { $0 != "=" })
        })
        let commandPath = Array(rest.prefix { subcommands.contains($0) })
        let tokens = try ConfigFile.arguments(file: file, knownKeys: knownKeys(commandPath), excluding: given)
        return commandPath + tokens + rest.dropFirst(commandPath.count)
    }

    private static func isTag(_ node: Node, _ name: Tag.Name) -> Bool {
        node.tag.description == name.rawValue
    }
}
