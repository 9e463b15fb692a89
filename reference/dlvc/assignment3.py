"""Assignment 3: a multi-layer network for MNIST with dropout, batchnorm and an Adam-style update.

Every array is feature-major, ``(n_features, m_samples)``; labels are a ``(1, m)`` row (floats
in the checks, so they are cast to int before indexing). Layers are numbered from 1 in one
flat ``parameters`` dict holding weights, architecture and optimiser state alike.
"""

import numpy as np


def relu(Z):
    """ReLU activation: ``(A, cache)`` with ``A = max(0, Z)`` and ``cache = {"Z": Z}``."""
    ### BEGIN SOLUTION
    A = np.maximum(0, Z)
    cache = {"Z": Z}
    ### END SOLUTION
    return A, cache


def relu_der(dA, cache):
    """Gradient of ReLU: ``dA`` where the cached ``Z`` was positive, 0 elsewhere."""
    ### BEGIN SOLUTION
    Z = np.asarray(cache["Z"])
    dZ = np.where(Z > 0, dA, 0)
    ### END SOLUTION
    return dZ


def linear(Z):
    """Identity activation (given): ``(Z, {"Z": Z})``."""
    A = Z
    cache = {"Z": Z}
    return A, cache


def linear_der(dA, cache):
    """Gradient of the identity activation (given): a copy of ``dA``."""
    dZ = np.array(dA, copy=True)
    return dZ


def softmax_cross_entropy_loss(Z, Y=np.array([])):  # noqa: B008 (the course's signature)
    """Softmax of the scores ``Z`` (classes, m) and the mean cross-entropy against labels ``Y``.

    Returns ``(A, cache, loss)`` with ``cache = {"A": A}``; ``loss`` is ``[]`` when ``Y`` is
    empty (prediction). The column maximum is subtracted first so large scores do not overflow.
    """
    ### BEGIN SOLUTION
    Z = np.asarray(Z, dtype=float)
    Y = np.asarray(Y)
    exps = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    A = exps / np.sum(exps, axis=0, keepdims=True)
    cache = {"A": A}
    if Y.size == 0:
        loss = []
    else:
        m = Z.shape[1]
        labels = Y.reshape(-1).astype(int)
        loss = -np.sum(np.log(A[labels, np.arange(m)])) / m
    ### END SOLUTION
    return A, cache, loss


def softmax_cross_entropy_loss_der(Y, cache):
    """Gradient of the mean cross-entropy wrt the scores: ``(A - one_hot(Y)) / m``.

    The labels come first. The ``1/m`` lives here, not in ``linear_backward``.
    """
    ### BEGIN SOLUTION
    A = np.asarray(cache["A"], dtype=float)
    m = A.shape[1]
    labels = np.asarray(Y).reshape(-1).astype(int)
    dZ = A.copy()
    dZ[labels, np.arange(m)] -= 1
    dZ = dZ / m
    ### END SOLUTION
    return dZ


def dropout(A, drop_prob, mode='train'):
    """Inverted dropout with ``drop_prob`` the probability of dropping a unit.

    Returns ``(A, cache)`` with the tuple ``cache = (drop_prob, mode, mask)``; the mask is
    drawn as ``rand(n, m) < keep`` and scaled by ``1/keep``. ``drop_prob == 0`` draws nothing
    and caches no mask; test mode leaves ``A`` as it is; any other mode is a ValueError.
    """
    ### BEGIN SOLUTION
    if mode not in ('train', 'test'):
        raise ValueError("Mode value not set correctly, set it to 'train' or 'test'")
    mask = None
    if drop_prob == 0:
        return A, (drop_prob, mode, mask)
    if mode == 'train':
        prob_keep = 1 - drop_prob
        mask = (np.random.rand(A.shape[0], A.shape[1]) < prob_keep) / prob_keep
        A = mask * A
    ### END SOLUTION
    cache = (drop_prob, mode, mask)
    return A, cache


def dropout_der(dA_in, cache):
    """Gradient of dropout: the cached mask times ``dA_in`` in train mode, else ``dA_in``."""
    ### BEGIN SOLUTION
    drop_prob, mode, mask = cache
    if not drop_prob or mode == 'test':
        return dA_in
    dA_out = mask * dA_in
    ### END SOLUTION
    return dA_out


def batchnorm(A, beta, gamma):
    """Batch normalisation of each feature over the batch (axis 1), after the activation.

    ``Anorm = gamma * (A - mean) / sqrt(var + 1e-5) + beta`` with the biased variance; beta
    comes before gamma. Empty ``beta`` or ``gamma`` means batchnorm is off: ``(A, {})``.
    There are no running statistics: a test batch is normalised with its own.
    """
    ### BEGIN SOLUTION
    beta, gamma = np.asarray(beta), np.asarray(gamma)
    if beta.size == 0 or gamma.size == 0:
        return A, {}
    A = np.asarray(A, dtype=float)
    eps = 1e-5
    mu = np.mean(A, axis=1, keepdims=True)
    var = np.var(A, axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    A_hat = (A - mu) * inv_std
    Anorm = gamma * A_hat + beta
    cache = {"A_hat": A_hat, "inv_std": inv_std, "gamma": gamma}
    ### END SOLUTION
    return Anorm, cache


def batchnorm_der(dA_in, cache):
    """Gradient of ``batchnorm``: ``(dA_out, dbeta, dgamma)``, dbeta first.

    An empty cache (batchnorm off) gives ``(dA_in, [], [])``.
    """
    ### BEGIN SOLUTION
    if not cache:
        return dA_in, [], []
    A_hat, inv_std, gamma = cache["A_hat"], cache["inv_std"], cache["gamma"]
    dA_in = np.asarray(dA_in, dtype=float)
    m = dA_in.shape[1]
    dbeta = np.sum(dA_in, axis=1, keepdims=True)
    dgamma = np.sum(dA_in * A_hat, axis=1, keepdims=True)
    dA_hat = dA_in * gamma
    dA_out = inv_std / m * (m * dA_hat - np.sum(dA_hat, axis=1, keepdims=True)
                            - A_hat * np.sum(dA_hat * A_hat, axis=1, keepdims=True))
    ### END SOLUTION
    return dA_out, dbeta, dgamma


def initialize_network(net_dims, act_list, drop_prob_list):
    """The flat parameter dict: ``W{k}`` of shape (n_out, n_in) drawn as
    ``randn(n_out, n_in) * 2/sqrt(n_in)`` layer by layer, zero ``b{k}`` of shape (n_out, 1),
    plus ``numLayers``, ``act{k}`` and ``dropout{k}``.
    """
    ### BEGIN SOLUTION
    parameters = {}
    num_layers = len(net_dims) - 1
    parameters['numLayers'] = num_layers
    for k in range(1, num_layers + 1):
        n_in, n_out = net_dims[k - 1], net_dims[k]
        parameters['W' + str(k)] = np.random.randn(n_out, n_in) * (2. / np.sqrt(n_in))
        parameters['b' + str(k)] = np.zeros((n_out, 1))
        parameters['act' + str(k)] = act_list[k - 1]
        parameters['dropout' + str(k)] = drop_prob_list[k - 1]
    ### END SOLUTION
    return parameters


def initialize_velocity(parameters, apply_momentum=True):
    """Adds the Adam state: zero ``VdW{k}``, ``Vdb{k}`` (velocity) and ``GdW{k}``, ``Gdb{k}``
    (gradient squares) shaped like ``W{k}`` and ``b{k}``, only when ``apply_momentum``;
    records ``apply_momentum`` in any case.
    """
    ### BEGIN SOLUTION
    L = parameters['numLayers']
    parameters['apply_momentum'] = apply_momentum
    if apply_momentum:
        for k in range(1, L + 1):
            for prefix in ('V', 'G'):
                parameters[prefix + 'dW' + str(k)] = np.zeros_like(parameters['W' + str(k)])
                parameters[prefix + 'db' + str(k)] = np.zeros_like(parameters['b' + str(k)])
    ### END SOLUTION
    return parameters


def initialize_bnorm_params(parameters, bnorm_list, apply_momentum):
    """Batchnorm parameters (given): ``bnorm_beta{k}`` and ``bnorm_gamma{k}`` drawn with
    ``randn(n, 1)`` where ``bnorm_list[k-1]`` is set, empty arrays where it is not, and their
    zero Adam state when ``apply_momentum``.
    """
    L = parameters['numLayers']
    parameters['bnorm_list'] = bnorm_list
    for k in range(L):
        if bnorm_list[k]:
            n = parameters['W' + str(k + 1)].shape[0]
            parameters['bnorm_beta' + str(k + 1)] = np.random.randn(n, 1)
            parameters['bnorm_gamma' + str(k + 1)] = np.random.randn(n, 1)
            if apply_momentum:
                parameters['Vbnorm_beta' + str(k + 1)] = np.zeros((n, 1))
                parameters['Gbnorm_beta' + str(k + 1)] = np.zeros((n, 1))
                parameters['Vbnorm_gamma' + str(k + 1)] = np.zeros((n, 1))
                parameters['Gbnorm_gamma' + str(k + 1)] = np.zeros((n, 1))
        else:
            parameters['bnorm_beta' + str(k + 1)] = np.asarray([])
            parameters['Vbnorm_beta' + str(k + 1)] = np.asarray([])
            parameters['Gbnorm_beta' + str(k + 1)] = np.asarray([])
            parameters['bnorm_gamma' + str(k + 1)] = np.asarray([])
            parameters['Vbnorm_gamma' + str(k + 1)] = np.asarray([])
            parameters['Gbnorm_gamma' + str(k + 1)] = np.asarray([])
    return parameters


def linear_forward(A_prev, W, b):
    """Affine layer: ``(Z, cache)`` with ``Z = W A_prev + b`` and ``cache = {"A": A_prev}``."""
    ### BEGIN SOLUTION
    Z = np.dot(W, A_prev) + b
    cache = {"A": A_prev}
    ### END SOLUTION
    return Z, cache


def layer_forward(A_prev, W, b, activation, drop_prob, bnorm_beta, bnorm_gamma, mode):
    """One layer (given): linear, activation, batchnorm after the activation, then dropout."""
    Z, lin_cache = linear_forward(A_prev, W, b)
    if activation == "relu":
        A, act_cache = relu(Z)
    elif activation == "linear":
        A, act_cache = linear(Z)
    A, bnorm_cache = batchnorm(A, bnorm_beta, bnorm_gamma)
    A, drop_cache = dropout(A, drop_prob, mode)
    cache = {}
    cache["lin_cache"] = lin_cache
    cache["act_cache"] = act_cache
    cache["bnorm_cache"] = bnorm_cache
    cache["drop_cache"] = drop_cache
    return A, cache


def multi_layer_forward(A0, parameters, mode):
    """The forward pass through every layer (given): the last layer's output (before softmax)
    and the list of per-layer caches."""
    L = parameters['numLayers']
    A = A0
    caches = []
    for k in range(1, L + 1):
        A, cache = layer_forward(A, parameters["W" + str(k)], parameters["b" + str(k)],
                                 parameters["act" + str(k)], parameters["dropout" + str(k)],
                                 parameters['bnorm_beta' + str(k)],
                                 parameters['bnorm_gamma' + str(k)], mode)
        caches.append(cache)
    return A, caches


def linear_backward(dZ, cache, W, b):
    """Gradient of the affine layer: ``(dA_prev, dW, db)`` with ``dA_prev = W^T dZ``,
    ``dW = dZ A_prev^T`` and ``db`` the row sums of ``dZ``; no ``1/m`` (it is in ``dZ``)."""
    ### BEGIN SOLUTION
    A_prev = cache["A"]
    dA_prev = np.dot(W.T, dZ)
    dW = np.dot(dZ, A_prev.T)
    db = np.sum(dZ, axis=1, keepdims=True)
    ### END SOLUTION
    return dA_prev, dW, db


def layer_backward(dA, cache, W, b, activation):
    """One layer backwards (given): dropout, batchnorm, activation, linear."""
    lin_cache = cache["lin_cache"]
    act_cache = cache["act_cache"]
    drop_cache = cache["drop_cache"]
    bnorm_cache = cache["bnorm_cache"]
    dA = dropout_der(dA, drop_cache)
    dA, dbnorm_beta, dbnorm_gamma = batchnorm_der(dA, bnorm_cache)
    if activation == "relu":
        dZ = relu_der(dA, act_cache)
    elif activation == "linear":
        dZ = linear_der(dA, act_cache)
    dA_prev, dW, db = linear_backward(dZ, lin_cache, W, b)
    return dA_prev, dW, db, dbnorm_beta, dbnorm_gamma


def multi_layer_backward(dAL, caches, parameters):
    """The backward pass through every layer (given): ``dW{k}``, ``db{k}``,
    ``dbnorm_beta{k}`` and ``dbnorm_gamma{k}`` (``[]`` without batchnorm)."""
    L = len(caches)
    gradients = {}
    dA = dAL
    for k in reversed(range(1, L + 1)):
        dA, gradients["dW" + str(k)], gradients["db" + str(k)], \
            gradients["dbnorm_beta" + str(k)], gradients["dbnorm_gamma" + str(k)] = \
            layer_backward(dA, caches[k - 1], parameters["W" + str(k)],
                           parameters["b" + str(k)], parameters["act" + str(k)])
    return gradients


def update_parameters_with_momentum_Adam(  # noqa: N802 (the course's name)
        parameters, gradients, alpha, beta=0.9, beta2=0.99, eps=1e-8):
    """One update of every layer, in place: Adam without bias correction and with ``eps``
    inside the square root when ``apply_momentum`` is set, plain SGD otherwise.

    ``V = beta V + (1-beta) g``; ``G = beta2 G + (1-beta2) g**2``;
    ``theta -= alpha V / sqrt(G + eps)``. The batchnorm updates are the course's code: its
    SGD branch updates gamma with beta's gradient (kept as the course gives it).
    """
    L = parameters['numLayers']
    apply_momentum = parameters['apply_momentum']
    bnorm_list = parameters['bnorm_list']
    for k in range(L):
        ### BEGIN SOLUTION
        layer = str(k + 1)
        for name in ('W', 'b'):
            key, grad = name + layer, gradients['d' + name + layer]
            if apply_momentum:
                V = beta * parameters['Vd' + key] + (1 - beta) * grad
                G = beta2 * parameters['Gd' + key] + (1 - beta2) * grad ** 2
                parameters['Vd' + key], parameters['Gd' + key] = V, G
                parameters[key] = parameters[key] - alpha * V / np.sqrt(G + eps)
            else:
                parameters[key] = parameters[key] - alpha * grad
        ### END SOLUTION
        if bnorm_list[k]:
            if apply_momentum:
                for name in ('bnorm_beta', 'bnorm_gamma'):
                    key = name + str(k + 1)
                    parameters['V' + key] = beta * parameters['V' + key] + \
                        (1 - beta) * gradients['d' + key]
                    parameters['G' + key] = beta2 * parameters['G' + key] + \
                        (1 - beta2) * gradients['d' + key] ** 2
                    parameters[key] = parameters[key] - \
                        alpha * parameters['V' + key] / np.sqrt(parameters['G' + key] + eps)
            else:
                parameters['bnorm_beta' + str(k + 1)] -= \
                    alpha * gradients["dbnorm_beta" + str(k + 1)]
                parameters['bnorm_gamma' + str(k + 1)] -= \
                    alpha * gradients["dbnorm_beta" + str(k + 1)]
    return parameters


def multi_layer_network(X, Y, net_dims, act_list, drop_prob_list, bnorm_list, num_epochs=3,
                        batch_size=64, learning_rate=0.2, decay_rate=0.01, apply_momentum=True,
                        log=True, log_step=200):
    """Trains the network on sequential minibatches (no shuffling) with the learning rate
    ``learning_rate / (1 + decay_rate * epoch)``; returns ``(costs, parameters)``, a cost
    logged every ``log_step`` iterations. Random draws: the weights, then batchnorm's beta
    and gamma, then one dropout mask per dropout layer per minibatch.
    """
    ### BEGIN SOLUTION
    mode = 'train'
    m = X.shape[1]
    parameters = initialize_network(net_dims, act_list, drop_prob_list)
    parameters = initialize_velocity(parameters, apply_momentum)
    parameters = initialize_bnorm_params(parameters, bnorm_list, apply_momentum)
    costs = []
    itr = 0
    for epoch in range(num_epochs):
        alpha = learning_rate * (1 / (1 + decay_rate * epoch))
        if log:
            print(f'------- Epoch {epoch + 1} -------')
        for ii in range((m - 1) // batch_size + 1):
            Xb = X[:, ii * batch_size:(ii + 1) * batch_size]
            Yb = Y[:, ii * batch_size:(ii + 1) * batch_size]
            A, caches = multi_layer_forward(Xb, parameters, mode)
            _, softmax_cache, cost = softmax_cross_entropy_loss(A, Yb)
            dAL = softmax_cross_entropy_loss_der(Yb, softmax_cache)
            gradients = multi_layer_backward(dAL, caches, parameters)
            parameters = update_parameters_with_momentum_Adam(parameters, gradients, alpha)
            if itr % log_step == 0:
                costs.append(cost)
                if log:
                    print(f"Cost at iteration {itr} is: {cost:.05f}, learning rate: {alpha:.05f}")
            itr += 1
    ### END SOLUTION
    return costs, parameters


def classify(X, parameters, mode='test'):
    """Predicted labels, shape (1, m): the forward pass in ``mode`` (test: dropout off,
    batchnorm on the statistics of ``X`` itself), softmax, argmax over the classes."""
    ### BEGIN SOLUTION
    A, _ = multi_layer_forward(X, parameters, mode)
    AL, _, _ = softmax_cross_entropy_loss(A)
    YPred = np.argmax(AL, axis=0).reshape(1, -1)
    ### END SOLUTION
    return YPred
