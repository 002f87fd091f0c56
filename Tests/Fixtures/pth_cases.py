"""`.pth` import fixture for Tests/TorchNNTests/PthImportTests.swift.

  python pth_cases.py OUT FINAL

Side files FINAL.<name>.pth:
  views.pth      a state dict whose tensors are views: a storage offset, a transposed
                 (non-contiguous) matrix, two tensors sharing one storage; plus f16, bf16, i64,
                 bool and a 0-d tensor. OUT holds the same tensors (contiguous) under their keys.
  checkpoint.pth {"epoch": 3, "state_dict": {...}} (tensors under a nested key)
  evil_system.pth / evil_eval.pth
                 pickles whose reduction calls os.system / builtins.eval with a command that
                 would create the file named in OUT's metadata `marker` — loading must refuse
                 them without running anything
  legacy.pth     the pre-1.6 (non-zip) format
  deflated.pth   views.pth re-zipped by Python's zipfile with ZIP_DEFLATED (real zlib
                 streams; torch.load reads it too)
"""
import io
import os
import pickle
import sys
import zipfile

import torch
from safetensors.torch import save_file

out_path, final = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
base = torch.randn(40)
matrix = torch.randn(3, 5)
sd = {
    "offset_view": base[7:19].view(3, 4),
    "transposed": matrix.t(),
    "shared_a": base[:10],
    "shared_b": base[10:20].view(2, 5),
    "half": torch.randn(4, 3).half(),
    "bfloat": torch.randn(2, 6).bfloat16(),
    "long": torch.arange(-5, 7).view(3, 4) * 1_000_000_007,
    "flags": torch.tensor([True, False, True]),
    "scalar": torch.tensor(2.5),
    "strided": torch.arange(24.0).view(4, 6)[::2, 1::2],
}
torch.save(sd, f"{final}.views.pth")
torch.save({"epoch": 3, "state_dict": {"w": torch.ones(2, 2)}}, f"{final}.checkpoint.pth")
torch.save({"w": torch.ones(2)}, f"{final}.legacy.pth", _use_new_zipfile_serialization=False)

marker = f"{final}.PWNED"


class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def evil_zip(path, payload):
    # A valid torch zip layout whose data.pkl runs `payload` when unpickled.
    good = io.BytesIO()
    torch.save({"w": torch.ones(2)}, good)
    with zipfile.ZipFile(io.BytesIO(good.getvalue())) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.endswith("data.pkl"):
                data = pickle.dumps({"w": payload}, protocol=2)
            dst.writestr(item, data)


with zipfile.ZipFile(f"{final}.views.pth") as src, \
        zipfile.ZipFile(f"{final}.deflated.pth", "w", compression=zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        dst.writestr(item.filename, src.read(item.filename))
assert all(torch.equal(v, torch.load(f"{final}.deflated.pth")[k]) for k, v in sd.items())

evil_zip(f"{final}.evil_system.pth", Evil(os.system, f"touch {marker}"))
evil_zip(f"{final}.evil_eval.pth", Evil(eval, f"open({marker!r}, 'w').close()"))
save_file({k: v.clone().contiguous() for k, v in sd.items()}, out_path, metadata={"marker": marker})
