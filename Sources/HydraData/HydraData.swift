/// HydraData: image decoding, datasets, the decoded cache and the batch loader.
public enum HydraData {}
