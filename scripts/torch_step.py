"""PyTorch's training step on a torchvision model with random weights, for the benches and the
profile of scripts/device_check.sh: SGD with momentum, cross-entropy on random labels; with amp,
bf16 autocast on channels-last tensors (PyTorch's best eager configuration)."""
import torch
import torchvision


def make_step(name, batch, amp, device="cuda"):
    """(step, model, optimizer): step() runs one training step of the model NAME at BATCH."""
    m = getattr(torchvision.models, name)(weights=None).to(device)
    x = torch.randn(batch, 3, 224, 224, device=device)
    if amp:
        m = m.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    y = torch.randint(0, 1000, (batch,), device=device)

    def step():
        with torch.autocast(device, dtype=torch.bfloat16, enabled=amp):
            loss = torch.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step, m, opt
