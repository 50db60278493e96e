import Interpreter
import Testing

/// cross_entropy and one step of each optimiser against PyTorch (F.cross_entropy,
/// torch.optim.SGD, Adam and AdamW), from the fixtures Fixtures/training/make_fixtures.py
/// writes: losses and gradients to 1e-6, parameters after each of three steps to 1e-6.
private let fixtures: String = {
    let path = #filePath
    return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) + "/Fixtures/training"
}()

@Test func crossEntropyEqualsPyTorchs() {
    let (output, error) = runScript("""
        fn L(name) = load("\(fixtures)/" + name + ".npy")
        z = L("ce_logits"); t = L("ce_targets"); m = L("ce_mask")
        r = value_and_grad(fn(z) = cross_entropy(z, t))(z)
        assert_close(r.value, L("ce_loss"), atol=1e-6, rtol=0)
        assert_close(r.grad, L("ce_grad"), atol=1e-6, rtol=0)
        r = value_and_grad(fn(z) = cross_entropy(z, t, mask=m))(z)
        assert_close(r.value, L("ce_masked_loss"), atol=1e-6, rtol=0)
        assert_close(r.grad, L("ce_masked_grad"), atol=1e-6, rtol=0)
        [shape(r.grad), item(sum(m))]
        """)
    #expect(error == nil, "\(error?.rendered() ?? "")")
    #expect(output == "[[4, 5, 7], 13]\n")
}

@Test(arguments: [
    ("sgd", "sgd(0.1)"), ("sgd_momentum", "sgd(0.1, momentum=0.9)"), ("adam", "adam(0.01)"),
    ("adamw", "adamw(0.01, betas=[0.8, 0.99], eps=1e-6, weight_decay=0.1)"),
])
func optimiserStepsEqualPyTorchs(_ name: String, _ make: String) {
    let (output, error) = runScript("""
        fn L(name) = load("\(fixtures)/" + name + ".npy")
        opt = \(make)
        p = {W: L("W0"), b: L("b0")}
        W = p.W
        for k in range(3) {
            step(opt, p, {W: L(format("gW{}", k)), b: L(format("gb{}", k))})
            assert_close(p.W, L(format("\(name)_W{}", k + 1)), atol=1e-6, rtol=0)
            assert_close(p.b, L(format("\(name)_b{}", k + 1)), atol=1e-6, rtol=0)
        }
        # In place: every variable that holds the tensor sees the new values.
        print(opt.t, item(sum(abs(W - p.W))))
        """)
    #expect(error == nil, "\(name): \(error?.rendered() ?? "")")
    #expect(output == "3 0\n", "\(name)")
}
