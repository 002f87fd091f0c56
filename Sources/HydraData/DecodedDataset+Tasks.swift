import Torch

extension DecodedDataset {
    /// This dataset with extra tasks whose labels are all missing (masked), e.g. the tasks
    /// of a model that the data has no column for. Task names must be new.
    public func addingUnlabelledTasks(_ extra: [TaskSpec]) throws -> DecodedDataset {
        for t in extra where tasks.contains(where: { $0.name == t.name }) {
            throw DataError.invalidArgument("task '\(t.name)' is already in the dataset")
        }
        let n = count
        let newLabels = extra.map { Tensor.zeros([n] + $0.kind.labelShape, dtype: $0.kind.labelDType) }
        let newMasks = extra.map { _ in Tensor.zeros([n], dtype: .bool) }
        return try DecodedDataset(name: name, tasks: tasks + extra, transform: transform, images: images,
                                  labels: labels + newLabels, masks: masks + newMasks, names: names,
                                  contentHashes: contentHashes, skipped: skipped, cacheFile: cacheFile,
                                  cacheStatus: cacheStatus)
    }
}
