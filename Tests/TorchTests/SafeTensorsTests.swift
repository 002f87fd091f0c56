import Foundation
import Testing
import Torch

/// Deterministic tensors of every dtype; `Tests/Fixtures/safetensors_dtypes.py` builds the
/// same ones in Python.
private func sampleTensors() -> [(String, Tensor)] {
    let base = (Tensor.arange(0, 24, dtype: .float64) - 7).reshaped([2, 3, 4]) / 4
    return [
        ("f32", base.to(dtype: .float32)),
        ("f64", base),
        ("f16", base.to(dtype: .float16)),
        ("bf16", base.to(dtype: .bfloat16)),
        ("i64", (base * 4).to(dtype: .int64) * 1_000_000_007),
        ("i32", (base * 4).to(dtype: .int32)),
        ("i16", (base * 4).to(dtype: .int16)),
        ("i8", (base * 4).to(dtype: .int8)),
        ("u8", (base * 4 + 7).to(dtype: .uint8)),
        ("bool", base.gt(0)),
        ("scalar", Tensor(Float(3.5))),
        ("empty", Tensor.zeros([0, 3])),
        ("nested.name/with:odd chars", Tensor([1, 2, 3] as [Float])),
    ]
}

private func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hydranet-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

@Suite("safetensors")
struct SafeTensorsTests {
    @Test("Swift round trip keeps names, order, dtypes, values and metadata")
    func swiftRoundTrip() throws {
        let path = temporaryPath("roundtrip.safetensors")
        let tensors = sampleTensors()
        try SafeTensors.save(ordered: tensors, metadata: ["format": "pt", "note": "ünïcode \"quoted\"\n"], to: path)
        let archive = try SafeTensors.read(path)
        #expect(archive.names == tensors.map(\.0))
        #expect(archive.metadata == ["format": "pt", "note": "ünïcode \"quoted\"\n"])
        for (name, t) in tensors {
            let loaded = try #require(archive.tensors[name])
            #expect(loaded.dtype == t.dtype, "\(name)")
            #expect(loaded.shape == t.shape, "\(name)")
            #expect(loaded.equal(t), "\(name)")
        }
    }

    @Test("Python's safetensors.torch.load_file reads what we write")
    func pythonReadsOurs() throws {
        let path = temporaryPath("for-python.safetensors")
        try SafeTensors.save(ordered: sampleTensors(), metadata: ["written_by": "hydranet"], to: path)
        let script = PythonReference.packageRoot.appendingPathComponent("Tests/Fixtures/safetensors_dtypes.py").path
        let output = try PythonReference.run([script, "--check", path])
        #expect(output.contains("OK 13 tensors"), "\(output)")
    }

    @Test("we read what Python's safetensors writes, for every dtype")
    func weReadPython() throws {
        let fixture = try PythonReference.fixture("safetensors_dtypes")
        for (name, t) in sampleTensors() {
            let loaded = try #require(fixture[name], "missing \(name)")
            #expect(loaded.dtype == t.dtype, "\(name)")
            #expect(loaded.shape == t.shape, "\(name)")
            #expect(loaded.equal(t), "\(name): \(loaded) vs \(t)")
        }
    }

    @Test("a transposed (non-contiguous) tensor is written in logical order")
    func nonContiguous() throws {
        let t = Tensor.arange(0, 6, dtype: .float32).reshaped([2, 3]).transposed(0, 1)
        let bytes = try SafeTensors.encode(ordered: [("t", t)])
        let archive = try bytes.withUnsafeBytes { try SafeTensors.decode($0) }
        #expect(archive.tensors["t"]!.equal(t))
    }

    // MARK: Malformed files

    /// A file from a header string and a data section.
    private static func file(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let n = declaredLength ?? UInt64(h.count)
        return (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xFF) } + h + data
    }

    private static let eightBytes: [UInt8] = [0, 0, 128, 63, 0, 0, 0, 64]  // [1.0, 2.0] as f32

    static let malformed: [(String, [UInt8], String)] = [
        ("empty file", [], "truncated"),
        ("shorter than the length field", [1, 2, 3], "truncated"),
        ("header length past the end", file(header: "{}", declaredLength: 1000), "runs past the end"),
        ("huge header length", file(header: "{}", declaredLength: UInt64.max), "runs past the end"),
        ("bad JSON", file(header: "{\"a\": {\"dtype\": \"F32\",", data: eightBytes), "not valid JSON"),
        ("not an object", file(header: "[1, 2]"), "not a JSON object"),
        ("unknown dtype", file(header: #"{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#,
                               data: [1, 2]), "unknown or unsupported dtype 'F8_E4M3'"),
        ("missing field", file(header: #"{"a":{"dtype":"F32","shape":[2]}}"#, data: eightBytes),
         "missing 'data_offsets'"),
        ("negative dimension", file(header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
                                    data: eightBytes), "non-negative integers"),
        ("offsets out of range", file(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#,
                                      data: eightBytes), "out of range"),
        ("offsets reversed", file(header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#,
                                  data: eightBytes), "out of range"),
        ("overlapping tensors", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                                     data: eightBytes), "overlap"),
        ("gap in the data", file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                                 data: eightBytes), "not covered"),
        ("trailing bytes", file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                                data: eightBytes), "not covered"),
        ("shape × dtype ≠ length", file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                                        data: eightBytes), "needs 12 bytes"),
        ("duplicate names", file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                                 data: eightBytes), "duplicate key \"a\""),
        ("metadata not strings", file(header: #"{"__metadata__":{"epoch":3}}"#), "not a string"),
        // Regression: the product overflowed past a 0 and libtorch's bare error lost the path.
        ("shape product overflows past a zero",
         file(header: #"{"a":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}"#),
         "is too large (its size overflows)"),
        ("shape product overflows", file(header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
                                         data: eightBytes), "is too large (its size overflows)"),
        ("bytes overflow", file(header: #"{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}"#,
                                data: eightBytes), "is too large (its size overflows)"),
        ("too many dimensions", file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":["
                                        + Array(repeating: "1", count: 65).joined(separator: ",")
                                        + "],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), "65 dimensions"),
        ("offset past Int", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]}}"#,
                                 data: eightBytes), "non-negative integers"),
    ]

    @Test("malformed files throw an error naming the problem", arguments: malformed.indices)
    func malformedFile(_ index: Int) throws {
        let (label, bytes, expected) = Self.malformed[index]
        let path = temporaryPath("malformed-\(index).safetensors")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SafeTensors.read(path)
            Issue.record("\(label): no error")
        } catch let error as TorchError {
            #expect(error.description.contains(expected), "\(label): \(error)")
            #expect(error.description.contains(path), "\(label): message should name the file: \(error)")
        }
    }

    @Test("in memory: read(data:name:) reads what save writes, and its errors name the given name")
    func inMemory() throws {
        let bytes = try SafeTensors.encode(ordered: sampleTensors(), metadata: ["k": "v"])
        let archive = try SafeTensors.read(data: Data(bytes), name: "upload.safetensors")
        #expect(archive.names == sampleTensors().map(\.0))
        #expect(archive.metadata == ["k": "v"])
        let (_, bad, expected) = Self.malformed.first { $0.0 == "shape product overflows past a zero" }!
        do {
            _ = try SafeTensors.read(data: Data(bad), name: "upload.safetensors")
            Issue.record("no error")
        } catch let TorchError.file(path, message) {
            #expect(path == "upload.safetensors")
            #expect(message.contains(expected), "\(message)")
        }
    }

    @Test("a valid file cut short anywhere throws instead of crashing")
    func truncatedEverywhere() throws {
        let bytes = try SafeTensors.encode(ordered: sampleTensors(), metadata: ["k": "v"])
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            let prefix = Array(bytes[..<cut])
            #expect(throws: (any Error).self, "cut at \(cut)") {
                try prefix.withUnsafeBytes { _ = try SafeTensors.decode($0) }
            }
        }
    }

    @Test("missing file and directory give clear errors")
    func notAFile() {
        #expect(throws: TorchError.self) { try SafeTensors.read("/nonexistent/x.safetensors") }
        #expect(throws: TorchError.self) { try SafeTensors.read(FileManager.default.temporaryDirectory.path) }
    }
}
