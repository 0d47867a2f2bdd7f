"""Trains an MLP on Fashion-MNIST from Python: graft's C++ training loop, written in Python.

    PYTHONPATH=build/python python3 examples/python/train_fashion_mnist.py [--epochs N]
        [--limit N] [--save model.safetensors]

Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) or $GRAFT_DATA.
"""
import argparse
import time

import graft
from graft import nn
from graft.nn import functional as F


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    parser.add_argument("--save", default="", help="write the weights here (safetensors)")
    args = parser.parse_args()

    device = "cuda" if graft.cuda.is_available() else "cpu"
    graft.manual_seed(0)
    train = graft.data.FashionMNIST(train=True)
    test = graft.data.FashionMNIST(train=False)
    if args.limit:
        train = graft.data.TensorDataset(train.x[:args.limit], train.y[:args.limit])

    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    model.to(device)
    optimizer = graft.optim.AdamW(model.parameters(), lr=args.lr)
    loader = graft.data.DataLoader(train, batch_size=args.batch_size, shuffle=True)

    for epoch in range(args.epochs):
        model.train()
        start, seen, loss_sum = time.perf_counter(), 0, 0.0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            seen += len(y)
            loss_sum += loss.item() * len(y)
        elapsed = time.perf_counter() - start
        print(f"epoch {epoch + 1}: loss {loss_sum / seen:.4f}, {seen / elapsed:,.0f} images/s")

    model.eval()
    correct = 0
    with graft.no_grad():
        for x, y in graft.data.DataLoader(test, batch_size=1000):
            correct += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
    accuracy = correct / len(test)
    print(f"test accuracy {accuracy:.4f} on {device}")
    if args.save:
        graft.save(model.state_dict(), args.save)
    return accuracy


if __name__ == "__main__":
    main()
