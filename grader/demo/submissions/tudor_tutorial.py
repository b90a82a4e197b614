import os

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_num_threads(1)

# check if CUDA is available and move tensors to GPU if it is
train_on_gpu = torch.cuda.is_available()
if not train_on_gpu:
    print('CUDA is not available.  Training on CPU ...')
else:
    print('CUDA is available!  Training on GPU ...')

# define the NN architecture
class Net(nn.Module):
    def __init__(self, n_inputs, n_classes):
        super(Net, self).__init__()
        # number of hidden nodes in each layer (512)
        hidden_1 = 512
        hidden_2 = 512
        # linear layer (n_inputs -> hidden_1)
        self.fc1 = nn.Linear(n_inputs, hidden_1)
        # linear layer (n_hidden -> hidden_2)
        self.fc2 = nn.Linear(hidden_1, hidden_2)
        # linear layer (n_hidden -> 10)
        self.fc3 = nn.Linear(hidden_2, n_classes)
        # dropout layer (p=0.2)
        # dropout prevents overfitting of data
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        # add hidden layer, with relu activation function
        x = F.relu(self.fc1(x))
        # add dropout layer
        x = self.dropout(x)
        # add hidden layer, with relu activation function
        x = F.relu(self.fc2(x))
        # add dropout layer
        x = self.dropout(x)
        # add output layer
        x = self.fc3(x)
        return x

def train_model(model, X, y, n_epochs=30):
    # specify loss function (categorical cross-entropy)
    criterion = nn.CrossEntropyLoss()
    # specify optimizer (stochastic gradient descent) and learning rate = 0.01
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(n_epochs):
        # monitor training loss
        train_loss = 0.0
        model.train() # prep model for training
        for i in range(0, len(X), 32):
            data, target = X[i:i + 32], y[i:i + 32]
            # clear the gradients of all optimized variables
            optimizer.zero_grad()
            # forward pass: compute predicted outputs by passing inputs to the model
            output = model(data)
            # calculate the loss
            loss = criterion(output, target)
            # backward pass: compute gradient of the loss with respect to model parameters
            loss.backward()
            # perform a single optimization step (parameter update)
            optimizer.step()
            # update running training loss
            train_loss += loss.item()*data.size(0)
        # print training statistics
        # calculate average loss over an epoch
        train_loss = train_loss/len(X)
        print('Epoch: {} \tTraining Loss: {:.6f}'.format(epoch+1, train_loss))
    return model

data_dir = os.environ["GRADER_DATA"]
train = pd.read_csv(os.path.join(data_dir, "train.csv"))
test = pd.read_csv(os.path.join(data_dir, "test.csv"))
cols = [c for c in train.columns if c.startswith("px")]
X = torch.tensor(train[cols].to_numpy() / 16.0, dtype=torch.float32)
y = torch.tensor(train["label"].to_numpy(), dtype=torch.long)
model = train_model(Net(len(cols), 10), X, y, n_epochs=15)
model.eval()
with torch.no_grad():
    pred = model(torch.tensor(test[cols].to_numpy() / 16.0, dtype=torch.float32)).argmax(1)
pd.DataFrame({"id": test["id"], "label": pred.numpy()}).to_csv(
    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
