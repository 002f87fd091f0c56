import Foundation
import Testing
import Torch
import TorchNN

@Suite(".pth import")
struct PthImportTests {
    static func side(_ name: String) throws -> String {
        try PythonReference.fixtureURL("pth_cases").path + ".\(name).pth"
    }

    @Test("views, offsets, shared storages and f16/bf16/i64/bool load with PyTorch's values")
    func views() throws {
        let expected = try PythonReference.fixture("pth_cases")
        let loaded = try PthFile.load(try Self.side("views"))
        #expect(Set(loaded.keys) == Set(expected.keys))
        for (key, value) in expected {
            let t = try #require(loaded[key], "\(key)")
            #expect(t.dtype == value.dtype, "\(key)")
            #expect(t.shape == value.shape, "\(key)")
            #expect(t.equal(value), "\(key)")
        }
    }

    @Test("the same file re-zipped with deflate (zlib's streams) loads the same values")
    func deflated() throws {
        let expected = try PythonReference.fixture("pth_cases")
        let loaded = try PthFile.load(try Self.side("deflated"))
        #expect(Set(loaded.keys) == Set(expected.keys))
        for (key, value) in expected { #expect(loaded[key]?.equal(value) == true, "\(key)") }
    }

    @Test("a checkpoint dict with tensors under state_dict loads those")
    func nestedCheckpoint() throws {
        let loaded = try PthFile.load(try Self.side("checkpoint"))
        #expect(loaded.keys == ["w"])
        #expect(loaded["w"]!.equal(Tensor.ones([2, 2])))
    }

    /// Pickle protocol 2 spells os.system as posix.system and builtins as __builtin__.
    @Test("pickles calling os.system or builtins.eval are refused by name, and nothing runs",
          arguments: ["evil_system": "posix.system", "evil_eval": "__builtin__.eval"].sorted { $0.key < $1.key })
    func refusesCode(_ file: (key: String, value: String)) throws {
        let archive = try PythonReference.fixtureArchive("pth_cases")
        let marker = try #require(archive.metadata["marker"])
        try? FileManager.default.removeItem(atPath: marker)
        do {
            _ = try PthFile.load(try Self.side(file.key))
            Issue.record("\(file.key) loaded")
        } catch let error as TorchError {
            #expect(error.description.contains("refused to load global '\(file.value)'"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "the payload ran")
    }

    @Test("a legacy (pre-1.6) file gets an error that says how to re-save it")
    func legacy() throws {
        do {
            _ = try PthFile.load(try Self.side("legacy"))
            Issue.record("legacy file loaded")
        } catch let error as TorchError {
            #expect(error.description.contains("legacy"), "\(error)")
            #expect(error.description.contains("torch.save"), "\(error)")
        }
    }

    @Test("truncated and bit-flipped files throw, never crash")
    func corrupted() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Self.side("views"))))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pth-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Fixed positions from a seeded generator of the test's own: the same every run.
        let positions = Tensor.randint(0, bytes.count, [40], generator: Generator(seed: 11)).scalars(as: Int64.self)
        var variants: [(String, [UInt8])] = [("empty", []), ("three bytes", [0x50, 0x4B, 0x03])]
        for cut in stride(from: 4, to: bytes.count, by: Swift.max(1, bytes.count / 25)) {
            variants.append(("cut at \(cut)", Array(bytes[..<cut])))
        }
        for i in 0..<40 {
            var flipped = bytes
            let position = Int(positions[i])
            flipped[position] ^= UInt8(1 << (i % 8))
            variants.append(("bit \(i % 8) flipped at \(position)", flipped))
        }
        var loadedAnyway = 0
        for (label, data) in variants {
            let path = dir.appendingPathComponent("corrupt.pth").path
            try Data(data).write(to: URL(fileURLWithPath: path))
            do {
                let sd = try PthFile.load(path)
                // A flip in zip padding or an unused header field may leave the file valid;
                // then it must still hold exactly the right tensors.
                let expected = try PythonReference.fixture("pth_cases")
                for (k, v) in expected { #expect(sd[k]?.equal(v) == true, "\(label): \(k) silently wrong") }
                loadedAnyway += 1
            } catch is TorchError {
                // expected
            }
        }
        #expect(loadedAnyway < variants.count / 2, "most corruptions must be detected")
    }

    @Test("a missing file and a non-zip file throw")
    func notPth() throws {
        #expect(throws: TorchError.self) { try PthFile.load("/nonexistent.pth") }
        // A device would stream forever, a folder is not a file: refused before reading.
        #expect(throws: TorchError.file(path: "/dev/zero", message: "not a regular file")) { try PthFile.load("/dev/zero") }
        #expect(throws: TorchError.file(path: "/tmp", message: "not a regular file")) { try PthFile.load("/tmp") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("text-\(getpid()).pth").path
        try "hello world".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TorchError.self) { try PthFile.load(path) }
    }
}
