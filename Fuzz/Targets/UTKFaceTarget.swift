import HydraData

extension FuzzTarget {
    /// The UTKFace file-name parser on arbitrary text (invalid UTF-8 is repaired, as a file
    /// system's name would be by `FileManager`). A name it accepts must carry at least one
    /// label, each in its range.
    static let utkface = FuzzTarget(name: "utkface") { bytes in
        let name = String(decoding: bytes, as: UTF8.self)
        guard case let .success(parsed) = UTKFace.parse(name) else { return }
        invariant(parsed.age != nil || parsed.gender != nil || parsed.race != nil, "no label in '\(name)'")
        if let age = parsed.age { invariant(UTKFace.ageRange.contains(age), "age \(age)") }
        if let gender = parsed.gender { invariant(gender == 0 || gender == 1, "gender \(gender)") }
        if let race = parsed.race { invariant((0..<UTKFace.raceCount).contains(race), "race \(race)") }
    }
}
