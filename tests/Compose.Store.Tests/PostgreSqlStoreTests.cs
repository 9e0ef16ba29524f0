using Compose.PostgreSql;
using Compose.Store;

namespace Compose.Store.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlStoreTests(PostgresCluster cluster) : StoreContractTests, IAsyncLifetime
{
    private readonly List<PostgreSqlStoreBackend> _backends = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }
    }

    // Each call makes a new backend (its own pool): replicas as PostgreSQL sees them.
    protected override IPluginStore CreateStore(string pluginId)
    {
        var backend = new PostgreSqlStoreBackend(new PostgreSqlStoreOptions { ConnectionString = cluster.ConnectionString });
        lock (_backends)
        {
            _backends.Add(backend);
        }

        return backend.GetStore(pluginId);
    }

    [Fact]
    public async Task Schema_creation_is_idempotent_and_safe_from_replicas_at_once()
    {
        var schema = "s" + Guid.NewGuid().ToString("N")[..8];
        var backends = Enumerable.Range(0, 4)
            .Select(_ => new PostgreSqlStoreBackend(new PostgreSqlStoreOptions { ConnectionString = cluster.ConnectionString, Schema = schema }))
            .ToArray();
        _backends.AddRange(backends);
        await Task.WhenAll(backends.Select(b => b.EnsureSchemaAsync()));
        await backends[0].EnsureSchemaAsync();
        await backends[1].GetStore("p").SetAsync("k", new byte[] { 1 });
        Assert.NotNull(await backends[2].GetStore("p").GetAsync("k"));
    }

    [Fact]
    public async Task Unreachable_server_is_a_clear_exception_after_bounded_retries()
    {
        var backend = new PostgreSqlStoreBackend(new PostgreSqlStoreOptions
        {
            ConnectionString = $"Host=127.0.0.1;Port={FreePort()};Username=postgres;Timeout=2",
            MaxAttempts = 2,
            RetryDelay = TimeSpan.FromMilliseconds(10),
        });
        _backends.Add(backend);
        var started = DateTime.UtcNow;
        var ex = await Assert.ThrowsAsync<PluginStoreUnavailableException>(async () => await backend.GetStore("p").SetAsync("k", new byte[] { 1 }));
        Assert.Contains("cannot reach PostgreSQL at 127.0.0.1", ex.Message);
        Assert.Contains("'p'", ex.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void Bad_settings_are_refused_by_name()
    {
        Assert.Contains("ConnectionString", Assert.Throws<ArgumentException>(() => new PostgreSqlStoreOptions().Validate()).Message);
        Assert.Contains("Schema", Assert.Throws<ArgumentException>(() => new PostgreSqlStoreOptions { ConnectionString = "Host=x", Schema = "a;drop" }.Validate()).Message);
        Assert.Contains("LeaseCheckInterval", Assert.Throws<ArgumentException>(() => new PostgreSqlStoreOptions { ConnectionString = "Host=x", LeaseCheckInterval = TimeSpan.Zero }.Validate()).Message);
        Assert.Contains("does not parse", Assert.Throws<ArgumentException>(() => new PostgreSqlStoreBackend(new PostgreSqlStoreOptions { ConnectionString = "Nonsense=1" })).Message);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
