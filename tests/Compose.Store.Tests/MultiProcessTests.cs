using System.Collections.Concurrent;
using System.Diagnostics;

namespace Compose.Store.Tests;

/// <summary>A replica process (tests/Compose.Store.Replica) on the shared PostgreSQL, driven over stdin/stdout.</summary>
internal sealed class ReplicaProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _pending = new();
    private int _next;

    private ReplicaProcess(Process process) => _process = process;

    /// <summary>Gets every notice line so far (events, lease changes), in order.</summary>
    public ConcurrentQueue<string> Notices { get; } = new();

    public int Pid => _process.Id;

    public static async Task<ReplicaProcess> StartAsync(string connectionString)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Compose.Store.Replica.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add(connectionString);
        var replica = new ReplicaProcess(Process.Start(info)!);
        replica._process.OutputDataReceived += (_, e) => replica.OnLine(e.Data);
        replica._process.ErrorDataReceived += (_, _) => { };
        replica._process.BeginOutputReadLine();
        replica._process.BeginErrorReadLine();
        await replica.WaitForNoticeAsync("READY", TimeSpan.FromSeconds(60));
        return replica;
    }

    public async Task<string> SendAsync(string command)
    {
        var id = Interlocked.Increment(ref _next).ToString();
        var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        lock (_process)
        {
            _process.StandardInput.WriteLine($"{id} {command}");
            _process.StandardInput.Flush();
        }

        return await answer.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Counts the notices so far that start with <paramref name="prefix"/>.</summary>
    public int Count(string prefix) => Notices.Count(n => n.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>Waits until at least <paramref name="count"/> notices start with <paramref name="prefix"/>; returns the last.</summary>
    public async Task<string> WaitForNoticeAsync(string prefix, TimeSpan within, int count = 1)
    {
        var clock = Stopwatch.StartNew();
        while (Count(prefix) < count)
        {
            if (clock.Elapsed > within || _process.HasExited)
            {
                throw new TimeoutException($"No '{prefix}' (×{count}) from replica {Pid} within {within}; seen: {string.Join(" | ", Notices)}");
            }

            await Task.Delay(20);
        }

        return Notices.Last(n => n.StartsWith(prefix, StringComparison.Ordinal));
    }

    public void Kill() => _process.Kill(); // SIGKILL on Unix

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        var space = line.IndexOf(' ');
        if (space > 0 && _pending.TryRemove(line[..space], out var answer))
        {
            answer.TrySetResult(line[(space + 1)..]);
            return;
        }

        Notices.Enqueue(line);
    }
}

/// <summary>Two and three real host processes on 127.0.0.1 sharing one PostgreSQL database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MultiProcessTests(PostgresCluster cluster)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Write_on_one_replica_read_on_another_and_one_CAS_winner_per_round_across_processes()
    {
        await using var a = await ReplicaProcess.StartAsync(cluster.ConnectionString);
        await using var b = await ReplicaProcess.StartAsync(cluster.ConnectionString);
        var key = "k" + Guid.NewGuid().ToString("N")[..8];
        var set = await a.SendAsync($"set {key} hello");
        Assert.StartsWith("OK ", set);
        Assert.Equal($"VALUE hello {set[3..]}", await b.SendAsync($"get {key}"));

        var version = long.Parse(set[3..]);
        for (var round = 0; round < 3; round++)
        {
            var expected = version;
            var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? a : b).SendAsync($"cas {key} {expected} v{round}-{i}")));
            var winners = answers.Where(x => x.StartsWith("CAS True ", StringComparison.Ordinal)).ToArray();
            Assert.True(winners.Length == 1, string.Join(" | ", answers));
            version = long.Parse(winners[0].Split(' ')[2]);
            Assert.All(answers, x => Assert.EndsWith($" {version}", x));
        }
    }

    [Fact]
    public async Task An_event_from_one_replica_reaches_the_others_and_run_once_moves_after_kill_9()
    {
        var replicas = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ReplicaProcess.StartAsync(cluster.ConnectionString)));
        try
        {
            await replicas[0].SendAsync("publish stale key-7");
            foreach (var replica in replicas)
            {
                Assert.StartsWith("EVENT stale key-7 ", await replica.WaitForNoticeAsync("EVENT", Bound));
            }

            // Exactly one holds the run-once lease, for several check intervals.
            await Task.WhenAny(replicas.Select(r => r.WaitForNoticeAsync("LEASE ACQUIRED", Bound)));
            await Task.Delay(1500);
            Assert.Equal(1, replicas.Sum(r => r.Count("LEASE ACQUIRED")));
            var holder = Array.FindIndex(replicas, r => r.Count("LEASE ACQUIRED") == 1);

            var clock = Stopwatch.StartNew();
            replicas[holder].Kill();
            var others = replicas.Where((_, i) => i != holder).ToArray();
            await await Task.WhenAny(others.Select(r => r.WaitForNoticeAsync("LEASE ACQUIRED", Bound)));
            Assert.True(clock.Elapsed < Bound, $"takeover took {clock.Elapsed}");
            await Task.Delay(1500);
            Assert.Equal(1, others.Sum(r => r.Count("LEASE ACQUIRED")));
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }
}
