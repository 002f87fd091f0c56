"""safetensors parity fixture.

  python safetensors_dtypes.py OUT            writes the sample tensors with Python's safetensors
  python safetensors_dtypes.py --check FILE   loads FILE with safetensors.torch.load_file and
                                              checks it holds exactly the sample tensors

The samples mirror sampleTensors() in Tests/TorchTests/SafeTensorsTests.swift.
"""
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file


def samples():
    base = (torch.arange(0, 24, dtype=torch.float64) - 7).reshape(2, 3, 4) / 4
    return {
        "f32": base.to(torch.float32),
        "f64": base,
        "f16": base.to(torch.float16),
        "bf16": base.to(torch.bfloat16),
        "i64": (base * 4).to(torch.int64) * 1_000_000_007,
        "i32": (base * 4).to(torch.int32),
        "i16": (base * 4).to(torch.int16),
        "i8": (base * 4).to(torch.int8),
        "u8": (base * 4 + 7).to(torch.uint8),
        "bool": base > 0,
        "scalar": torch.tensor(3.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3),
        "nested.name/with:odd chars": torch.tensor([1.0, 2.0, 3.0]),
    }


def main():
    if sys.argv[1] == "--check":
        path = sys.argv[2]
        loaded = load_file(path)
        expected = samples()
        assert set(loaded) == set(expected), (sorted(loaded), sorted(expected))
        for name, t in expected.items():
            got = loaded[name]
            assert got.dtype == t.dtype, (name, got.dtype, t.dtype)
            assert got.shape == t.shape, (name, got.shape, t.shape)
            assert torch.equal(got, t), (name, got, t)
        with safe_open(path, framework="pt") as f:
            assert f.metadata() == {"written_by": "hydranet"}, f.metadata()
        print(f"OK {len(loaded)} tensors")
    else:
        save_file(samples(), sys.argv[1], metadata={"format": "pt"})


if __name__ == "__main__":
    main()
