import CTorch
public enum Torch { public static var version: String { String(cString: ct_torch_version()) } }
