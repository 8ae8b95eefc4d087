"""Keeps GPU 0 busy (matrix products on 2 GiB of memory) so the probe can see a compute process.

Writes the file named by argv[1] once the GPU is busy, then runs until killed (at most 60 s).
"""
import sys
import time

import torch

x = torch.randn(16384, 16384, device="cuda")  # 1 GiB, plus 1 GiB for each product
y = x @ x
torch.cuda.synchronize()
open(sys.argv[1], "w").close()
deadline = time.time() + 60
while time.time() < deadline:
    y = x @ x
    torch.cuda.synchronize()
