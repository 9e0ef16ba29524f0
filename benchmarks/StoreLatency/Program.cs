// Measures the latency of IPluginStore.GetAsync and SetAsync, one call at a time, on the embedded file store and on
// PostgreSQL (a throw-away local cluster, or COMPOSE_BENCH_PG as a connection string). Prints a Markdown table.
using System.Diagnostics;
using Compose.PostgreSql;
using Compose.Store;
using Compose.Store.Tests;

const int Warmup = 200;
var iterations = args.Length > 0 && int.TryParse(args[0], out var n) && n is > 0 and <= 100_000 ? n : 2000;
var value = new byte[256];
Random.Shared.NextBytes(value);

var rows = new List<string>();
var folder = Directory.CreateTempSubdirectory("compose-bench-").FullName;
try
{
    rows.AddRange(await MeasureAsync("Files", new FilePluginStore("bench", folder)));
}
finally
{
    Directory.Delete(folder, recursive: true);
}

var external = Environment.GetEnvironmentVariable("COMPOSE_BENCH_PG");
PostgresCluster? cluster = null;
if (string.IsNullOrEmpty(external))
{
    cluster = new PostgresCluster { Durable = true };
    await cluster.InitializeAsync();
}

try
{
    await using var backend = new PostgreSqlStoreBackend(new PostgreSqlStoreOptions { ConnectionString = external is { Length: > 0 } ? external : cluster!.ConnectionString });
    await backend.EnsureSchemaAsync();
    rows.AddRange(await MeasureAsync(cluster is null ? "PostgreSql (COMPOSE_BENCH_PG)" : "PostgreSql (local, 127.0.0.1)", backend.GetStore("bench")));
}
finally
{
    if (cluster is not null)
    {
        await cluster.DisposeAsync();
    }
}

Console.WriteLine($"{iterations} calls each after {Warmup} warm-up calls, one at a time, 256-byte values, 100 keys; {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
Console.WriteLine();
Console.WriteLine("| Backend | Operation | p50 (ms) | p99 (ms) |");
Console.WriteLine("|---|---|---:|---:|");
rows.ForEach(Console.WriteLine);

async Task<string[]> MeasureAsync(string name, IPluginStore store)
{
    var set = new double[iterations];
    var get = new double[iterations];
    for (var i = 0; i < Warmup; i++)
    {
        await store.SetAsync($"key{i % 100}", value);
        await store.GetAsync($"key{i % 100}");
    }

    for (var i = 0; i < iterations; i++)
    {
        var start = Stopwatch.GetTimestamp();
        await store.SetAsync($"key{i % 100}", value);
        set[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        start = Stopwatch.GetTimestamp();
        await store.GetAsync($"key{(i * 7) % 100}");
        get[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    return [Row(name, "get", get), Row(name, "set", set)];
}

static string Row(string backend, string operation, double[] samples)
{
    Array.Sort(samples);
    double At(double q) => samples[Math.Min(samples.Length - 1, (int)Math.Ceiling(q * samples.Length) - 1)];
    return $"| {backend} | {operation} | {At(0.50):0.000} | {At(0.99):0.000} |";
}
