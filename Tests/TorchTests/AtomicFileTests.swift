import Foundation
import Testing
import Torch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("atomic file")
struct AtomicFileTests {
    private func folder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("hydranet-atomic-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("writes and replaces a file, leaving no temporary file behind")
    func writeAndReplace() throws {
        let dir = try folder("replace")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/file.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3]))
        try AtomicFile.write(Data("longer contents".utf8), to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("longer contents".utf8))
        try AtomicFile.write([UInt8](), to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
        try SafeTensors.save(["t": Tensor([Float(1), 2])], to: dir + "/t.safetensors")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["file.bin", "t.safetensors"])
    }

    @Test("a write that cannot happen throws, naming the file, and changes nothing")
    func failure() throws {
        let dir = try folder("failure")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = dir + "/no-such-folder/file.bin"
        #expect(throws: TorchError.self) { try AtomicFile.write([1], to: missing) }
        do {
            try AtomicFile.write([1], to: missing)
        } catch {
            #expect("\(error)".hasPrefix(missing), "\(error)")
        }
        // A folder where the file should be: the rename fails, the temporary file goes.
        try FileManager.default.createDirectory(atPath: dir + "/taken/inner", withIntermediateDirectories: true)
        #expect(throws: TorchError.self) { try AtomicFile.write([1], to: dir + "/taken") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["taken"])
    }

    @Test("temporary files are recognised by name, and only dead processes' ones are removed")
    func staleTemporaries() throws {
        let dir = try folder("stale")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let deadPID: Int32 = 999_999_999  // above any pid_max: no such process
        let names = [".state.safetensors.tmp-\(deadPID)-1f", ".metrics.jsonl.tmp-\(getpid())-abc",
                     ".hydranet-synthetic.json", "state.safetensors", ".x.tmp-12-nothex", "a.tmp-\(deadPID)-1"]
        for name in names { _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data([0])) }
        #expect(AtomicFile.temporaryOwner(ofName: names[0]) == deadPID)
        #expect(AtomicFile.temporaryOwner(ofName: names[1]) == getpid())
        #expect(names[2...].allSatisfy { !AtomicFile.isTemporary($0) })
        #expect(AtomicFile.removeStaleTemporaries(in: dir) == [names[0]])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == names[1...].sorted())
    }
}
