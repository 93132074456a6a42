#!/usr/bin/env python3
"""Writes a ResNet-18-shaped (or, with --depth 34, ResNet-34-shaped) image classifier (torch.onnx export, seeded random weights, 1x3x128x128 FP32 in,
1000 logits out, dynamic batch) for the bench's realistic CNN latency run: the example image_cnn runs in about
0.3 ms, too little to say anything about a server's overhead on a real image model. torchvision is not installed
here, so the network is written out (BasicBlock x [2, 2, 2, 2], or [3, 4, 6, 3] for 34, widths 64-512, as in He
et al. 2015).

    /usr/bin/python3 bench/make_resnet_cnn.py OUT.onnx [--depth 18|34]
"""
import inspect
import os
import sys

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


BLOCKS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3]}


class ResNet(nn.Module):
    def __init__(self, depth, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], 64
        for (cout, stride), count in zip([(64, 1), (128, 2), (256, 2), (512, 2)], BLOCKS[depth]):
            layers += [BasicBlock(cin, cout, stride)] + [BasicBlock(cout, cout, 1) for _ in range(count - 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.head = nn.Linear(512, classes)

    def forward(self, image):
        x = self.layers(self.stem(image))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main():
    out = sys.argv[1]
    depth = int(sys.argv[sys.argv.index("--depth") + 1]) if "--depth" in sys.argv else 18
    torch.manual_seed(0)
    model = ResNet(depth).eval()
    kwargs = dict(input_names=["image"], output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                  opset_version=13, do_constant_folding=True)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    torch.onnx.export(model, (torch.zeros(1, 3, 128, 128),), out, **kwargs)
    print("wrote", out, os.path.getsize(out), "bytes")


if __name__ == "__main__":
    main()
