import Foundation
import Testing
import Torch
import TorchNN

/// Regression tests for each way a hostile `.pth` used to crash or stall the process; each
/// file is built byte by byte here and must be refused with a `TorchError.file` naming it.
@Suite(".pth import refuses hostile files")
struct PthHostileFileTests {
    static let name = "hostile.pth"
    static let floats: [UInt8] = [Float(1), 2, 3, 4].flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }

    /// The message a refused file gets (nil, and an issue recorded, if it loads).
    func refusal(_ bytes: [UInt8], limits: PthFile.Limits = PthFile.Limits(),
                 sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            _ = try PthFile.load(data: Data(bytes), name: Self.name, limits: limits)
            Issue.record("the file loaded", sourceLocation: sourceLocation)
        } catch let TorchError.file(path, message) {
            #expect(path == Self.name, sourceLocation: sourceLocation)
            return message
        } catch {
            Issue.record("not a TorchError.file: \(error)", sourceLocation: sourceLocation)
        }
        return ""
    }

    func file(numel: Int = 4, offset: Int = 0, size: [Int], stride: [Int], storage: [UInt8] = floats) -> [UInt8] {
        PthTestFiles.pth(pickle: PickleWriter.stateDict(numel: numel, offset: offset, size: size, stride: stride),
                         storages: [("0", storage)])
    }

    @Test("a file built here loads (from memory and from disk), so the refusals below are about what they change")
    func wellFormed() throws {
        let bytes = file(size: [2, 2], stride: [1, 2])
        let sd = try PthFile.load(data: Data(bytes), name: "memory.pth")
        #expect(sd["w"]?.scalars(as: Float.self) == [1, 3, 2, 4])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wellformed-\(getpid()).pth").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try PthFile.load(path)["w"]?.scalars(as: Float.self) == [1, 3, 2, 4])
        // A deflated storage record inflates to the same values.
        let deflated = PthTestFiles.zip([
            .init(name: "archive/data.pkl", data: PickleWriter.stateDict(numel: 4, size: [4], stride: [1])),
            .init(name: "archive/data/0", data: PthTestFiles.deflateStored(Self.floats), method: 8,
                  declaredSize: 16, crc: PthTestFiles.crc32(Self.floats)),
        ])
        #expect(try PthFile.load(data: Data(deflated), name: "deflated.pth")["w"]?.scalars(as: Float.self) == [1, 2, 3, 4])
        // A directory found through a zip64 end record.
        let zip64 = PthTestFiles.zip([.init(name: "archive/data.pkl", data: PickleWriter.stateDict(numel: 4, size: [4], stride: [1])),
                                      .init(name: "archive/data/0", data: Self.floats)], zip64: true)
        #expect(try PthFile.load(data: Data(zip64), name: "zip64.pth")["w"]?.scalars(as: Float.self) == [1, 2, 3, 4])
        var lying = zip64
        lying.replaceSubrange(lying.count - 22 - 20 + 8..<lying.count - 22 - 20 + 16, with: PthTestFiles.le64(1 << 40))
        #expect(refusal(lying).contains("zip64 end-of-central-directory record is missing or out of range"))
    }

    @Test("describe(pickle:) validates a pickle alone and lists its tensors")
    func describePickle() throws {
        let layout = try PthFile.describe(pickle: Data(PickleWriter.stateDict(numel: 4, size: [2, 2], stride: [2, 1])),
                                          name: "data.pkl")
        #expect(layout.map(\.key) == ["w"] && layout[0].shape == [2, 2] && layout[0].dtype == .float32)
        #expect(throws: TorchError.file(path: "data.pkl", message: "tensor with size [3], stride [2], offset 0 reaches "
                                        + "element 4 of storage '0', which has 4 elements")) {
            try PthFile.describe(pickle: Data(PickleWriter.stateDict(numel: 4, size: [3], stride: [2])), name: "data.pkl")
        }
    }

    @Test("a tensor whose zero strides ask for 64 GB from a 4-element storage is refused before anything is allocated")
    func sixtyFourGigabytes() {
        let message = refusal(file(size: [65536, 65536, 4], stride: [0, 0, 0]))
        #expect(message.contains("68719476736 bytes"), "\(message)")
        #expect(message.contains("repeat elements"), "\(message)")
    }

    @Test("a view reaching past its storage is refused, naming the element and the storage's size")
    func pastStorage() {
        let message = refusal(file(size: [10], stride: [1]))
        #expect(message.contains("reaches element 9 of storage '0', which has 4 elements"), "\(message)")
        #expect(refusal(file(offset: 3, size: [2], stride: [1])).contains("reaches element 4"))
    }

    @Test("sizes, strides and offsets that overflow or are negative are refused",
          arguments: [
            ([Int(1) << 62, 4], [1, Int(1) << 62], 0, "overflows"),
            ([0, Int(1) << 40, Int(1) << 40], [0, 0, 0], 0, "element count overflows"),
            ([2], [-1], 1, "negative"),
            ([2], [1], -1, "negative"),
            ([-2], [1], 0, "negative"),
          ])
    func badLayout(size: [Int], stride: [Int], offset: Int, expected: String) {
        let message = refusal(file(offset: offset, size: size, stride: stride))
        #expect(message.contains(expected), "\(message)")
    }

    @Test("a storage whose element count overflows, or disagrees with its record, is refused")
    func storageSize() {
        #expect(refusal(file(numel: Int.max / 2, size: [1], stride: [1])).contains("too large"))
        let message = refusal(file(numel: 1 << 40, size: [1], stride: [1]))
        #expect(message.contains("storage '0' has 16 bytes, expected 4398046511104"), "\(message)")
        #expect(refusal(file(size: [4], stride: [1], storage: [])).contains("has 0 bytes"))
    }

    @Test("lists, tuples and dicts nested 100,000 deep are refused without overflowing the stack (building or freeing)",
          arguments: ["list", "tuple", "dict"])
    func deepNesting(kind: String) {
        let depth = 100_000
        var p = PickleWriter()
        switch kind {
        case "list":
            for _ in 0..<depth { p.emptyList() }
            for _ in 1..<depth { p.append() }
        case "tuple":
            p.emptyTuple()
            for _ in 0..<depth { p.tuple1() }
        default:
            p.emptyDict()
            for _ in 0..<depth {
                p.op(0x4B, 0)  // key 0
                p.emptyDict()
            }
            for _ in 0..<depth { p.setItem() }
        }
        p.stop()
        let message = refusal(PthTestFiles.pth(pickle: p.bytes))
        #expect(message.contains("nest deeper than 100 levels"), "\(message)")
    }

    @Test("cyclic structures (a list holding itself, two lists holding each other, a dict whose 'model' is itself) are refused")
    func cycles() {
        var selfList = PickleWriter()
        selfList.emptyList(); selfList.put(0); selfList.get(0); selfList.append(); selfList.stop()
        #expect(refusal(PthTestFiles.pth(pickle: selfList.bytes)).contains("contains itself"))

        var mutual = PickleWriter()
        mutual.emptyList(); mutual.put(0)
        mutual.emptyList(); mutual.put(1)
        mutual.get(0); mutual.append()  // second.append(first)
        mutual.append()  // first.append(second): first is already nested
        mutual.stop()
        #expect(refusal(PthTestFiles.pth(pickle: mutual.bytes)).contains("already nested"))

        var model = PickleWriter()
        model.emptyDict(); model.put(0); model.string("model"); model.get(0); model.setItem(); model.stop()
        #expect(refusal(PthTestFiles.pth(pickle: model.bytes)).contains("contains itself"))
    }

    @Test("pickle limits: opcodes, memo entries and tensors")
    func pickleLimits() {
        var limits = PthFile.Limits()
        limits.maxOpcodes = 1000
        var long = PickleWriter()
        for _ in 0..<2000 { long.op(0x4E) }  // None
        long.stop()
        #expect(refusal(PthTestFiles.pth(pickle: long.bytes), limits: limits).contains("more than 1000 opcodes"))

        limits = PthFile.Limits()
        limits.maxMemoEntries = 10
        var memo = PickleWriter()
        memo.op(0x4E)
        for i in 0..<20 { memo.put(UInt8(i)) }
        memo.stop()
        #expect(refusal(PthTestFiles.pth(pickle: memo.bytes), limits: limits).contains("more than 10 memo entries"))

        limits = PthFile.Limits()
        limits.maxTensors = 2
        var many = PickleWriter()
        many.emptyDict()
        for i in 0..<3 {
            many.string("t\(i)")
            many.tensor(key: "0", numel: 4, size: [4], stride: [1])
            many.setItem()
        }
        many.stop()
        let bytes = PthTestFiles.pth(pickle: many.bytes, storages: [("0", Self.floats)])
        #expect(refusal(bytes, limits: limits).contains("more than 2 tensors"))
        #expect((try? PthFile.load(data: Data(bytes), name: "three.pth"))?.count == 3)
    }

    @Test("a truncated large .pth is refused for its missing end record (found without scanning the whole file)")
    func truncatedLarge() {
        // 46 MB like the file in the report; its CRC is never checked, the directory is refused first.
        var bytes = PthTestFiles.zip([
            .init(name: "archive/data.pkl", data: PickleWriter.stateDict(numel: 11_500_000, size: [11_500_000], stride: [1])),
            .init(name: "archive/data/0", data: [UInt8](repeating: 0, count: 46_000_000), crc: 0),
        ])
        bytes.removeLast(1000)
        let message = refusal(bytes)
        #expect(message.contains("no end-of-central-directory record in the last 65557 bytes"), "\(message)")
    }

    @Test("zip bombs: impossible declared sizes, records producing more than declared, huge totals, overlaps, entry counts")
    func zipBombs() {
        let pickle = PickleWriter.stateDict(numel: 4, size: [4], stride: [1])
        func pth(_ storage: PthTestFiles.Record) -> [UInt8] {
            PthTestFiles.zip([.init(name: "archive/data.pkl", data: pickle), storage])
        }
        // 32 MB declared from 21 bytes: more than deflate can produce.
        let lie = PthTestFiles.zip([
            .init(name: "archive/data.pkl", data: PickleWriter.stateDict(numel: 1 << 23, size: [1 << 23], stride: [1])),
            .init(name: "archive/data/0", data: PthTestFiles.deflateStored(Self.floats), method: 8, declaredSize: 1 << 25),
        ])
        #expect(refusal(lie).contains("more than deflate can produce"))
        // Declares 16 bytes (what the storage needs) but inflates to 32.
        let more = pth(.init(name: "archive/data/0", data: PthTestFiles.deflateStored(Self.floats + Self.floats), method: 8,
                             declaredSize: 16))
        #expect(refusal(more).contains("inflates to more than the 16 bytes it declares"))
        // 100 MB declared by a 100 KB record (a ratio deflate can reach): refused before inflating.
        let bomb = PthTestFiles.zip([
            .init(name: "archive/data.pkl", data: PickleWriter.stateDict(numel: 25_000_000, size: [25_000_000], stride: [1])),
            .init(name: "archive/data/0", data: [UInt8](repeating: 0, count: 100_000), method: 8, declaredSize: 100_000_000),
        ])
        #expect(refusal(bomb).contains("zip bomb"))
        // A record whose declared size runs over the next record's header.
        let overlap = PthTestFiles.zip([
            .init(name: "archive/data.pkl", data: pickle, compressedSize: pickle.count + 8),
            .init(name: "archive/data/0", data: Self.floats),
        ])
        #expect(refusal(overlap).contains("records 'archive/data.pkl' and 'archive/data/0' overlap"))
        // More records than allowed.
        var limits = PthFile.Limits()
        limits.maxEntries = 2
        let three = PthTestFiles.pth(pickle: pickle, storages: [("0", Self.floats)])
        #expect(refusal(three, limits: limits).contains("declares 3 records, more than the 2 allowed"))
    }
}
