// A replica for the multi-process tests. Argument: the connection string. Reads commands from stdin, one per line,
// "{id} set {key} {value}" | "{id} get {key}" | "{id} cas {key} {expectedVersion} {value}" | "{id} publish {name} {payload}",
// runs each concurrently and answers "{id} OK {version}" | "{id} VALUE {value} {version}" | "{id} NONE" |
// "{id} CAS {won} {version}" | "{id} ERROR {exception type}: {message}". Notices: "READY", "EVENT {name} {payload} {sender}",
// "LEASE ACQUIRED", "LEASE RELEASED" (the run-once service "replica-test/once").
using System.Text;
using Compose.PostgreSql;
using Compose.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

var output = new object();
void Say(string line)
{
    lock (output)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}

await using var backend = new PostgreSqlStoreBackend(new PostgreSqlStoreOptions
{
    ConnectionString = args[0],
    LeaseCheckInterval = TimeSpan.FromMilliseconds(500),
});
var store = backend.GetStore("replica-test");
var events = backend.GetEvents("replica-test");
using var subscription = events.Subscribe((e, _) =>
{
    Say($"EVENT {e.Name} {Encoding.UTF8.GetString(e.Payload.Span)} {e.Sender}");
    return Task.CompletedTask;
});
var once = new RunOnceHostedService("replica-test/once", new Notice(Say), backend, NullLogger.Instance);
await once.StartAsync(CancellationToken.None);
while (!backend.Listening)
{
    await Task.Delay(20);
}

Say("READY " + backend.ReplicaId);
var running = new List<Task>();
while (Console.In.ReadLine() is { } line)
{
    running.Add(Task.Run(() => HandleAsync(line)));
}

await Task.WhenAll(running);
await once.StopAsync(CancellationToken.None);

async Task HandleAsync(string line)
{
    var parts = line.Split(' ');
    var id = parts[0];
    try
    {
        switch (parts[1])
        {
            case "set":
                Say($"{id} OK {await store.SetAsync(parts[2], Encoding.UTF8.GetBytes(parts[3]))}");
                break;
            case "get":
                Say(await store.GetAsync(parts[2]) is { } entry ? $"{id} VALUE {Encoding.UTF8.GetString(entry.Value.Span)} {entry.Version}" : $"{id} NONE");
                break;
            case "cas":
                var result = await store.CompareAndSetAsync(parts[2], long.Parse(parts[3]), Encoding.UTF8.GetBytes(parts[4]));
                Say($"{id} CAS {result.Won} {result.Version}");
                break;
            case "publish":
                await events.PublishAsync(parts[2], Encoding.UTF8.GetBytes(parts[3]));
                Say($"{id} OK 0");
                break;
            default:
                Say($"{id} ERROR unknown command {parts[1]}");
                break;
        }
    }
    catch (Exception ex)
    {
        Say($"{id} ERROR {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
    }
}

internal sealed class Notice(Action<string> say) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        say("LEASE ACQUIRED");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        say("LEASE RELEASED");
        return Task.CompletedTask;
    }
}
