using System.Net;
using Compose.Store;

namespace Compose.Integration.Tests;

/// <summary>The plugin context's store and events on a real host (the embedded default: files, in process).</summary>
public sealed class StoreContextTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "compose-store-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_store_keeps_values_in_the_plugins_data_directory()
    {
        await using var host = await StartAsync();
        using var put = await host.Client.PutAsync("/api/plugins/kv/kv/config/a", new ByteArrayContent("hello"u8.ToArray()));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("hello", await host.Client.GetStringAsync("/api/plugins/kv/kv/config/a"));
        var context = host.App.Services.GetRequiredService<StorePlugin>().Context;
        Assert.IsType<FilePluginStore>(context.Store);
        Assert.Same(context.Store, context.Store);
        Assert.Single(Directory.GetFiles(Path.Combine(_root, "kv", ".store")));
    }

    [Theory]
    [InlineData("/api/plugins/kv/kv/a%00b")]
    [InlineData("/api/plugins/kv/kv/line%0Abreak")]
    public async Task Bad_keys_are_400_never_500(string path)
    {
        await using var host = await StartAsync();
        using var put = await host.Client.PutAsync(path, new ByteArrayContent([1]));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        using var get = await host.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
    }

    [Fact]
    public async Task A_10_KB_key_and_a_10_MB_value_are_refused_with_4xx()
    {
        await using var host = await StartAsync();
        // Kestrel refuses a 10 KB request target itself (414); a 2 KB key reaches the store, which refuses it (400).
        using var tooLongForKestrel = await host.Client.PutAsync("/api/plugins/kv/kv/" + new string('k', 10 * 1024), new ByteArrayContent([1]));
        Assert.Equal(HttpStatusCode.RequestUriTooLong, tooLongForKestrel.StatusCode);
        using var longKey = await host.Client.PutAsync("/api/plugins/kv/kv/" + new string('k', 2 * 1024), new ByteArrayContent([1]));
        Assert.Equal(HttpStatusCode.BadRequest, longKey.StatusCode);
        Assert.Contains("at most 512 bytes", await longKey.Content.ReadAsStringAsync());
        using var big = await host.Client.PutAsync("/api/plugins/kv/kv/big", new ByteArrayContent(new byte[10 * 1024 * 1024]));
        Assert.True((int)big.StatusCode is >= 400 and < 500, $"{big.StatusCode}");
        Assert.False(Directory.Exists(Path.Combine(_root, "kv", ".store")));
    }

    [Fact]
    public async Task One_plugins_keys_never_reach_another_plugins_entries()
    {
        await using var host = await StartAsync();
        var vault = host.App.Services.GetRequiredService<VaultPlugin>().Context;
        await vault.Store.SetAsync("secret", "vault"u8.ToArray());
        using var get = await host.Client.GetAsync("/api/plugins/kv/kv/secret");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        using var traversal = await host.Client.GetAsync("/api/plugins/kv/kv/..%2Fvault%2Fsecret");
        Assert.NotEqual(HttpStatusCode.OK, traversal.StatusCode);
        Assert.Equal("vault", System.Text.Encoding.UTF8.GetString((await vault.Store.GetAsync("secret"))!.Value.Span));
    }

    [Fact]
    public async Task Events_are_delivered_in_process_to_the_same_plugin()
    {
        await using var host = await StartAsync();
        var kv = host.App.Services.GetRequiredService<StorePlugin>().Context;
        var vault = host.App.Services.GetRequiredService<VaultPlugin>().Context;
        var received = new TaskCompletionSource<PluginClusterEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var wrong = 0;
        using var onKv = kv.Events.Subscribe((e, _) => { received.TrySetResult(e); return Task.CompletedTask; });
        using var onVault = vault.Events.Subscribe((_, _) => { Interlocked.Increment(ref wrong); return Task.CompletedTask; });
        await kv.Events.PublishAsync("changed", "x"u8.ToArray());
        var e = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(e.FromThisReplica);
        Assert.Equal("changed", e.Name);
        await Task.Delay(100);
        Assert.Equal(0, wrong);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private Task<PluginHost> StartAsync() => PluginHost.StartAsync(["kv", "vault"], new Dictionary<string, string?>
    {
        ["Compose:DataRoot"] = _root,
    });
}
