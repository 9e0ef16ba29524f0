using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Compose.PostgreSql;
using Compose.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compose.Store.Tests;

/// <summary>A hosted service that records whether it runs.</summary>
public sealed class CountingService : IHostedService
{
    private int _running;

    public int Starts;

    public bool Running => Volatile.Read(ref _running) == 1;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Starts);
        Volatile.Write(ref _running, 1);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _running, 0);
        return Task.CompletedTask;
    }
}

/// <summary>Cluster events, run-once leases and outages, with several backends (replicas) on one real PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private readonly List<PostgreSqlStoreBackend> _backends = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }
    }

    private PostgreSqlStoreBackend NewReplica(Action<PostgreSqlStoreOptions>? configure = null)
    {
        var options = new PostgreSqlStoreOptions { ConnectionString = cluster.ConnectionString, LeaseCheckInterval = TimeSpan.FromMilliseconds(500) };
        configure?.Invoke(options);
        var backend = new PostgreSqlStoreBackend(options);
        _backends.Add(backend);
        return backend;
    }

    private static async Task Eventually(Func<bool> condition, TimeSpan within, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < within, $"Not within {within}: {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task An_event_reaches_every_replica_of_the_same_plugin_only()
    {
        var (a, b, c) = (NewReplica(), NewReplica(), NewReplica());
        var received = Channel.CreateUnbounded<(string Replica, PluginClusterEvent Event)>();
        using var onB = b.GetEvents("cache").Subscribe((e, _) => received.Writer.WriteAsync(("b", e)).AsTask());
        using var onC = c.GetEvents("cache").Subscribe((e, _) => received.Writer.WriteAsync(("c", e)).AsTask());
        using var other = c.GetEvents("other").Subscribe((e, _) => received.Writer.WriteAsync(("other", e)).AsTask());
        await Eventually(() => b.Listening && c.Listening, Bound, "listeners connected");
        _ = a.GetEvents("cache");
        await Eventually(() => a.Listening, Bound, "publisher listening");

        await a.GetEvents("cache").PublishAsync("stale", "key-1"u8.ToArray());
        using var timeout = new CancellationTokenSource(Bound);
        var got = new[] { await received.Reader.ReadAsync(timeout.Token), await received.Reader.ReadAsync(timeout.Token) };
        Assert.Equal(["b", "c"], got.Select(g => g.Replica).Order());
        Assert.All(got, g =>
        {
            Assert.Equal("stale", g.Event.Name);
            Assert.Equal("key-1", Encoding.UTF8.GetString(g.Event.Payload.Span));
            Assert.Equal(a.ReplicaId, g.Event.Sender);
        });
        await Task.Delay(300);
        Assert.False(received.Reader.TryRead(out var extra), $"unexpected delivery to {extra.Replica}");
    }

    [Fact]
    public async Task A_throwing_handler_never_stops_delivery()
    {
        var (a, b) = (NewReplica(), NewReplica());
        var good = Channel.CreateUnbounded<string>();
        using var bad = b.GetEvents("iso").Subscribe((_, _) => throw new InvalidOperationException("handler bug"));
        using var badAsync = b.GetEvents("iso").Subscribe(async (_, _) => { await Task.Yield(); throw new InvalidOperationException("async bug"); });
        using var ok = b.GetEvents("iso").Subscribe((e, _) => good.Writer.WriteAsync(e.Name).AsTask());
        await Eventually(() => b.Listening, Bound, "listener");
        using var timeout = new CancellationTokenSource(Bound);
        await a.GetEvents("iso").PublishAsync("one", default);
        Assert.Equal("one", await good.Reader.ReadAsync(timeout.Token));
        await a.GetEvents("iso").PublishAsync("two", default);
        Assert.Equal("two", await good.Reader.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task Event_limits_are_enforced()
    {
        var events = NewReplica().GetEvents("lim");
        await Assert.ThrowsAsync<ArgumentException>(() => events.PublishAsync("big", new byte[PluginStoreLimits.MaxEventPayloadBytes + 1]));
        await Assert.ThrowsAsync<ArgumentException>(() => events.PublishAsync("a\nb", default));
        await Assert.ThrowsAsync<ArgumentException>(() => events.PublishAsync("", default));
        await Assert.ThrowsAsync<ArgumentException>(() => events.PublishAsync(new string('n', 129), default));
        await events.PublishAsync("max", new byte[PluginStoreLimits.MaxEventPayloadBytes]);
    }

    [Fact]
    public async Task A_run_once_service_runs_on_exactly_one_replica_and_moves_when_it_stops()
    {
        var services = Enumerable.Range(0, 3).Select(_ => new CountingService()).ToArray();
        var wrappers = services.Select(s => new RunOnceHostedService("test/one", s, NewReplica(), NullLogger.Instance)).ToArray();
        foreach (var wrapper in wrappers)
        {
            await wrapper.StartAsync(CancellationToken.None);
        }

        await Eventually(() => services.Count(s => s.Running) == 1, Bound, "one holder");
        await Task.Delay(1500); // several check intervals: still exactly one
        Assert.Equal(1, services.Count(s => s.Running));
        var holder = Array.FindIndex(services, s => s.Running);

        var clock = Stopwatch.StartNew();
        await wrappers[holder].StopAsync(CancellationToken.None);
        await Eventually(() => services.Count(s => s.Running) == 1, Bound, "takeover");
        Assert.True(clock.Elapsed < Bound);
        Assert.False(services[holder].Running);

        foreach (var wrapper in wrappers)
        {
            await wrapper.StopAsync(CancellationToken.None);
        }

        Assert.All(services, s => Assert.False(s.Running));
    }

    [Fact]
    public async Task A_replica_takes_over_within_the_bound_after_the_holder_process_is_killed()
    {
        // The holder is a real process (psql) holding the same advisory lock on an idle session, as a replica's lease
        // connection is; SIGKILL gives it no chance to release.
        var replica = NewReplica();
        var key = await LeaseKeyAsync(replica, "test/kill");
        var holder = Process.Start(new ProcessStartInfo(cluster.Psql)
        {
            ArgumentList = { "-h", "127.0.0.1", "-p", cluster.Port.ToString(), "-U", "postgres", "-d", "postgres" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            await holder.StandardInput.WriteLineAsync($"SELECT pg_advisory_lock({key});");
            await holder.StandardInput.FlushAsync();
            await Eventually(() => IsLockHeldAsync(replica, key).GetAwaiter().GetResult(), Bound, "psql holds the lock");
            var service = new CountingService();
            var wrapper = new RunOnceHostedService("test/kill", service, replica, NullLogger.Instance);
            await wrapper.StartAsync(CancellationToken.None);
            await Task.Delay(1500);
            Assert.False(service.Running, "ran while another process held the lease");

            var clock = Stopwatch.StartNew();
            holder.Kill(); // SIGKILL
            await Eventually(() => service.Running, Bound, "takeover after kill -9");
            Assert.True(clock.Elapsed < Bound, $"takeover took {clock.Elapsed}");
            await wrapper.StopAsync(CancellationToken.None);
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill();
            }

            holder.Dispose();
        }
    }

    [Fact]
    public async Task PostgreSQL_restarted_mid_run_clear_errors_while_down_no_acknowledged_write_lost_recovery_without_restart()
    {
        var writer = NewReplica(o => { o.MaxAttempts = 2; o.RetryDelay = TimeSpan.FromMilliseconds(50); });
        var reader = NewReplica();
        var store = writer.GetStore("outage");
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        using var stop = new CancellationTokenSource();
        var service = new CountingService();
        var runOnce = new RunOnceHostedService("test/outage", service, writer, NullLogger.Instance);
        await runOnce.StartAsync(CancellationToken.None);
        await Eventually(() => service.Running, Bound, "run-once started");

        var load = Task.Run(async () =>
        {
            for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
            {
                var key = $"k{i}";
                try
                {
                    acknowledged[key] = await store.SetAsync(key, BitConverter.GetBytes(i));
                }
                catch (Exception ex)
                {
                    failures.Add(ex);
                    await Task.Delay(20);
                }
            }
        });

        await Eventually(() => acknowledged.Count >= 20, Bound, "writes before the outage");
        await cluster.StopAsync();
        var down = Stopwatch.StartNew();
        await Eventually(() => !failures.IsEmpty, Bound, "a failure while down");
        await Eventually(() => !service.Running, Bound, "run-once stopped when its lease could not be vouched for");
        while (down.Elapsed < TimeSpan.FromSeconds(1))
        {
            await Task.Delay(50);
        }

        await cluster.StartAsync();
        var countAtRestart = acknowledged.Count;
        await Eventually(() => acknowledged.Count > countAtRestart + 20, TimeSpan.FromSeconds(30), "writes after the restart");
        await Eventually(() => service.Running, TimeSpan.FromSeconds(30), "run-once back after the restart");
        stop.Cancel();
        await load;
        await runOnce.StopAsync(CancellationToken.None);

        Assert.All(failures, ex => Assert.IsType<PluginStoreUnavailableException>(ex));
        Assert.Contains(failures, ex => ex.Message.Contains("cannot reach PostgreSQL", StringComparison.Ordinal) && ex.Message.Contains("'outage'", StringComparison.Ordinal));
        var readStore = reader.GetStore("outage");
        foreach (var (key, version) in acknowledged)
        {
            var entry = await readStore.GetAsync(key);
            Assert.True(entry is not null, $"acknowledged write {key} lost");
            Assert.Equal(version, entry.Version);
        }
    }

    [Fact]
    public async Task A_waiting_replica_names_the_holder_and_a_refused_holder_table_never_costs_the_lease()
    {
        var schema = "nh" + Guid.NewGuid().ToString("N")[..10];
        var (a, b) = (NewReplica(o => { o.Schema = schema; o.ReplicaId = "holder-a"; }), NewReplica(o => { o.Schema = schema; o.ReplicaId = "waiter-b"; }));
        var name = "holder/" + Guid.NewGuid().ToString("N");
        var (onA, onB) = (new CountingService(), new CountingService());
        var (runA, runB) = (new RunOnceHostedService(name, onA, a, NullLogger.Instance), new RunOnceHostedService(name, onB, b, NullLogger.Instance));

        // With the holder table: the waiting replica names the holder, with the holder's own since.
        await runA.StartAsync(CancellationToken.None);
        await Eventually(() => onA.Running, Bound, "a holds the lease");
        await runB.StartAsync(CancellationToken.None);
        await Eventually(() => runB.Status.Holder == "holder-a", Bound, "b names a as the holder");
        Assert.Equal(runA.Status.Since, runB.Status.Since);
        Assert.True(runA.Status.HeldByThisReplica);
        Assert.False(runB.Status.HeldByThisReplica);
        await runA.StopAsync(CancellationToken.None);
        await Eventually(() => onB.Running && runB.Status.Holder == "waiter-b", Bound, "b takes over and names itself");
        Assert.Null(runA.Status.Holder);
        await runB.StopAsync(CancellationToken.None);

        // Without it (dropped: recording and reading fail with 42P01, not transient): the lease still moves, no holder is named.
        await using (var source = Npgsql.NpgsqlDataSource.Create(cluster.ConnectionString))
        await using (var connection = await source.OpenConnectionAsync())
        await using (var drop = new Npgsql.NpgsqlCommand($"DROP TABLE \"{schema}\".compose_plugin_leases", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }

        (onA, onB) = (new CountingService(), new CountingService());
        (runA, runB) = (new RunOnceHostedService(name, onA, a, NullLogger.Instance), new RunOnceHostedService(name, onB, b, NullLogger.Instance));
        await runA.StartAsync(CancellationToken.None);
        await Eventually(() => onA.Running, Bound, "a holds the lease without the holder table");
        await runB.StartAsync(CancellationToken.None);
        await Task.Delay(1500);
        Assert.False(onB.Running);
        Assert.Null(runB.Status.Holder);
        Assert.Equal("holder-a", runA.Status.Holder); // a knows it holds the lease
        await runA.StopAsync(CancellationToken.None);
        await Eventually(() => onB.Running, Bound, "b takes over without the holder table");
        await runB.StopAsync(CancellationToken.None);
    }

    private static async Task<long> LeaseKeyAsync(PostgreSqlStoreBackend backend, string name)
    {
        // The lease takes the lock; while it is held, pg_locks shows its key (classid << 32 | objid).
        await using var lease = await backend.AcquireLeaseAsync(name, CancellationToken.None);
        await using var connection = await Npgsql.NpgsqlDataSource.Create(backend.Options.ConnectionString).OpenConnectionAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 LIMIT 1", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<bool> IsLockHeldAsync(PostgreSqlStoreBackend backend, long key)
    {
        await using var connection = await Npgsql.NpgsqlDataSource.Create(backend.Options.ConnectionString).OpenConnectionAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND ((classid::bigint << 32) | objid::bigint) = $1", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = key });
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }
}
