"""Benchmark layer suites shipped with gemforge (ResNet-50, MobileNetV2, BERT-base): layers.csv."""
