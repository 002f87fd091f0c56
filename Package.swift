// swift-tools-version: 6.0
import Foundation
import PackageDescription

// libtorch is found through the `.torch` link that `scripts/setup` makes at the package
// root. Paths are absolute (built from this file's location) so that plain `swift build`,
// `swift test` and `swift run` work with no environment variables, and the rpath lets
// every binary find libtorch at run time.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
let torch = "\(root)/.torch"

let package = Package(
    name: "HydraNet",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "TorchNN", targets: ["TorchNN"]),
        .library(name: "HydraData", targets: ["HydraData"]),
        .library(name: "HydraNet", targets: ["HydraNet"]),
        .executable(name: "hydranet", targets: ["hydranet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // The server (HydraServe): Hummingbird 2, its lifecycle, Prometheus metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        .target(
            name: "CTorch",
            cxxSettings: [
                .unsafeFlags([
                    "-I\(torch)/include", "-I\(torch)/include/torch/csrc/api/include",
                    "-Wno-deprecated-declarations",
                    // c10d's gloo process group (gloo's headers: Debian's libgloo-dev).
                    "-DUSE_C10D_GLOO",
                ])
            ],
            linkerSettings: [
                .unsafeFlags(["-L\(torch)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(torch)/lib"]),
                .linkedLibrary("torch_cpu"),
                .linkedLibrary("c10"),
            ]
        ),
        .target(name: "Torch", dependencies: ["CTorch"]),
        .target(name: "TorchNN", dependencies: ["Torch", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // --- data layer (decoding, datasets, cache, loader) ---
        // libjpeg-turbo and libpng from Debian's -dev packages (scripts/setup installs them);
        // CImageCodec is the C side of decoding (setjmp/longjmp error handling stays in C).
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG",
                       providers: [.apt(["libjpeg62-turbo-dev"]), .brew(["jpeg-turbo"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .target(
            name: "CImageCodec",
            dependencies: ["CJPEG", "CPNG"],
            cSettings: [.unsafeFlags(["-O2"])],  // decoding is hot even in debug builds
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]
        ),
        .target(name: "HydraData", dependencies: ["Torch", "CImageCodec"]),
        // --- end data layer ---
        .target(name: "HydraNet", dependencies: ["Torch", "TorchNN", "HydraData", .product(name: "Yams", package: "Yams")]),
        // The HTTP server (`hydranet serve`): a separate target so library users of HydraNet
        // don't pull in a web stack.
        .target(
            name: "HydraServe",
            dependencies: [
                "HydraNet", "HydraData", "Torch",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .executableTarget(
            name: "hydranet",
            dependencies: [
                "HydraNet",
                "HydraServe",
                "Torch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Shared by the test targets: Python reference values and tensor assertions.
        .target(name: "TestSupport", dependencies: ["Torch"], path: "Tests/TestSupport"),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "TestSupport"]),
        // The leak check (bare tensors and training steps), run by tests in a separate process.
        .executableTarget(name: "hydranet-leakcheck", dependencies: ["Torch", "TorchNN", "HydraNet"], path: "Tests/LeakCheck"),
        .testTarget(name: "TorchNNTests", dependencies: ["TorchNN", "Torch", "TestSupport"]),
        .testTarget(name: "HydraDataTests", dependencies: ["HydraData", "Torch", "TestSupport"]),
        // Running the built `hydranet` as a subprocess, and reading run folders (CLI tests).
        .target(name: "CLITestSupport", dependencies: ["HydraNet", "TestSupport"], path: "Tests/CLITestSupport"),
        .testTarget(name: "HydraNetTests", dependencies: ["HydraNet", "HydraData", "TorchNN", "Torch", "TestSupport",
                                                          "CLITestSupport"]),
        // The command-line tool as a user runs it: `hydranet` subprocesses on small data.
        .testTarget(name: "HydraNetCLITests", dependencies: ["HydraNet", "HydraData", "Torch", "TestSupport",
                                                             "CLITestSupport"]),
        // The server in process (HummingbirdTesting), over real HTTP, and its page in Chromium.
        .testTarget(name: "HydraServeTests", dependencies: [
            "HydraServe", "HydraNet", "HydraData", "Torch", "TestSupport", "CLITestSupport",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        // A few data-parallel training steps on fixed data, as torchrun's workers (distributed tests).
        .executableTarget(name: "hydranet-ddp-check", dependencies: ["HydraNet", "HydraData", "TorchNN", "Torch"],
                          path: "Tests/DDPCheck"),
        // Data pipeline benchmark against torchvision's PIL pipeline (bench/data).
        .executableTarget(name: "hydranet-bench-data", dependencies: ["HydraData", "Torch"], path: "bench/data"),
        // Per-step cost of every weighting method relative to equal weighting (bench/mtl).
        .executableTarget(name: "hydranet-bench-mtl", dependencies: ["HydraNet"], path: "bench/mtl",
                          exclude: ["pytorch_step.py"]),
        // Eval throughput and batch-1 latency, fused vs unfused inference (bench/fused).
        .executableTarget(name: "hydranet-bench-fused", dependencies: ["HydraNet"], path: "bench/fused"),
        // Training, eval and latency against PyTorch eager: fp32/bf16, NCHW/channels-last (bench/train).
        .executableTarget(name: "hydranet-bench-train", dependencies: ["HydraNet", "HydraData", "TorchNN", "Torch"],
                          path: "bench/train", exclude: ["pytorch_train.py"]),
        // Data-parallel scaling: 1 process × 2 threads vs 2 processes × 1 thread, PyTorch DDP beside (bench/ddp).
        .executableTarget(name: "hydranet-bench-ddp", dependencies: ["HydraNet", "HydraData", "TorchNN", "Torch"],
                          path: "bench/ddp", exclude: ["pytorch_ddp.py"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)

// libFuzzer targets (Fuzz/Targets, one binary, the target picked by HYDRANET_FUZZ_TARGET).
// Declared only when HYDRANET_FUZZ=1, which `scripts/fuzz` sets together with its own
// scratch path (.build-fuzz) and the sanitizer flags, so plain `swift build` and `swift test`
// never see, build or pay for them.
if ProcessInfo.processInfo.environment["HYDRANET_FUZZ"] == "1" {
    package.targets += [
        // The declaration of libFuzzer's driver entry point (the runtime itself comes with
        // `-sanitize=fuzzer`).
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "hydranet-fuzz",
            dependencies: ["CLibFuzzer", "Torch", "TorchNN", "HydraData"],
            path: "Fuzz/Targets"
        ),
    ]
}
