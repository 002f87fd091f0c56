"""The seed article's HydraNet training code, as the article writes it (for hydranet-bench-train's
"as written" rows): a PIL `Dataset` that opens and resizes every image on every epoch, the
heads hung on torchvision's ResNet-18 and `forward` running the backbone once per head (three
times), summed L1 + BCE(sigmoid) + CE, SGD(lr=1e-4, momentum=0.09), batch 32, 32×32 input,
`total_training_loss += loss` (which keeps every step's graph alive). The only departures:
`pretrained=False` (no download here; the speed is the same), a seeded 80/20 split and a
fixed thread count. Run from the folder that holds `UTKFace/` (the article's `path[8:]`
parsing assumes exactly that prefix).

usage: python article_as_written.py EPOCHS THREADS
Prints `RESULT {json}`: training images, seconds of each epoch's training loop, peak RSS.
"""
import glob
import json
import random
import sys
import time
from collections import OrderedDict

import torch
import torch.nn as nn
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import models, transforms

n_epochs, threads = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
device = "cpu"
BATCH_SIZE = 32


class UTKFace(Dataset):
    def __init__(self, image_paths):
        self.transform = transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor(),
                                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
        self.image_paths = image_paths
        self.images = []
        self.ages = []
        self.genders = []
        self.races = []
        for path in image_paths:
            filename = path[8:].split("_")
            if len(filename) == 4:
                self.images.append(path)
                self.ages.append(int(filename[0]))
                self.genders.append(int(filename[1]))
                self.races.append(int(filename[2]))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        img = Image.open(self.images[index]).convert('RGB')
        img = self.transform(img)
        age = self.ages[index]
        gender = self.genders[index]
        eth = self.races[index]
        sample = {'image': img, 'age': age, 'gender': gender, 'ethnicity': eth}
        return sample


class HydraNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = models.resnet18(weights=None)
        self.n_features = self.net.fc.in_features
        self.net.fc = nn.Identity()
        self.net.fc1 = nn.Sequential(OrderedDict(
            [('linear', nn.Linear(self.n_features, self.n_features)), ('relu1', nn.ReLU()),
             ('final', nn.Linear(self.n_features, 1))]))
        self.net.fc2 = nn.Sequential(OrderedDict(
            [('linear', nn.Linear(self.n_features, self.n_features)), ('relu1', nn.ReLU()),
             ('final', nn.Linear(self.n_features, 1))]))
        self.net.fc3 = nn.Sequential(OrderedDict(
            [('linear', nn.Linear(self.n_features, self.n_features)), ('relu1', nn.ReLU()),
             ('final', nn.Linear(self.n_features, 5))]))

    def forward(self, x):
        age_head = self.net.fc1(self.net(x))
        gender_head = self.net.fc2(self.net(x))
        ethnicity_head = self.net.fc3(self.net(x))
        return age_head, gender_head, ethnicity_head


paths = sorted(glob.glob("UTKFace/*.jpg"))
random.Random(0).shuffle(paths)
cut = int(0.8 * len(paths))
train_dataset, valid_dataset = paths[:cut], paths[cut:]
train_dataloader = DataLoader(UTKFace(train_dataset), shuffle=True, batch_size=BATCH_SIZE)
val_dataloader = DataLoader(UTKFace(valid_dataset), shuffle=False, batch_size=BATCH_SIZE)

model = HydraNet().to(device=device)
ethnicity_loss = nn.CrossEntropyLoss()
gender_loss = nn.BCELoss()
age_loss = nn.L1Loss()
sig = nn.Sigmoid()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.09)

epoch_seconds = []
for epoch in range(n_epochs):
    start = time.perf_counter()
    model.train()
    total_training_loss = 0
    for i, data in enumerate(train_dataloader):
        inputs = data["image"].to(device=device)
        age_label = data["age"].to(device=device)
        gender_label = data["gender"].to(device=device)
        eth_label = data["ethnicity"].to(device=device)
        optimizer.zero_grad()
        age_output, gender_output, eth_output = model(inputs)
        loss_1 = ethnicity_loss(eth_output, eth_label)
        loss_2 = gender_loss(sig(gender_output), gender_label.unsqueeze(1).float())
        loss_3 = age_loss(age_output, age_label.unsqueeze(1).float())
        loss = loss_1 + loss_2 + loss_3
        loss.backward()
        optimizer.step()
        total_training_loss += loss
    epoch_seconds.append(time.perf_counter() - start)

with open("/proc/self/status") as f:
    rss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
print("RESULT " + json.dumps({"train_images": len(train_dataloader.dataset), "epoch_seconds": epoch_seconds,
                              "peak_rss": rss}))
