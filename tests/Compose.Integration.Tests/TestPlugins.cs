using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Compose.Integration.Tests;

// Plugins composed into this test assembly by the Compose generator, exactly as into any host.
// Each test switches on only the plugins it needs through configuration (Compose:Plugins:{id}:Enabled).

/// <summary>Records the order in which plugins exit.</summary>
public sealed class ExitJournal
{
    public ConcurrentQueue<string> Exits { get; } = new();
}

/// <summary>Shared helpers of the test plugins.</summary>
public static class TestPluginServices
{
    public static void AddJournal(IServiceCollection services) => services.TryAddSingleton<ExitJournal>();
}

[ServerPlugin("probe", Name = "Probe", Description = "Answers pings")]
public sealed class ProbePlugin : IServerPlugin
{
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/ping", () => "pong");
        router.MapGet("/items/{id:int}", (int id) => $"item {id}");
        return Task.CompletedTask;
    }
}

/// <summary>Settings the configured plugin reads from its own section.</summary>
public sealed class GreetingSettings(string greeting)
{
    public string Greeting { get; } = greeting;
}

[ServerPlugin("configured")]
public sealed class ConfiguredPlugin(GreetingSettings settings) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
        => services.AddSingleton(new GreetingSettings(configuration["Greeting"] ?? "(none)"));

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/greeting", () => settings.Greeting);
        return Task.CompletedTask;
    }
}

[ServerPlugin("slow-init")]
public sealed class SlowInitPlugin : IServerPlugin
{
    public bool Ready { get; private set; }

    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/ready", () => Ready ? "ready" : "not ready");
        await Task.Delay(TimeSpan.FromMilliseconds(400), cancellationToken);
        Ready = true;
    }
}

[ServerPlugin("late")]
public sealed class LatePlugin : IServerPlugin
{
    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/early", () => "early");
        await Task.Yield();
#pragma warning disable CMP0008 // Wrong on purpose: the runtime must catch what the analyzer would have.
        router.MapGet("/late", () => "late");
#pragma warning restore CMP0008
    }
}

[ServerPlugin("throwing-sync")]
public sealed class ThrowingSyncPlugin : IServerPlugin
{
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
        => throw new InvalidOperationException("database unreachable");
}

[ServerPlugin("throwing-async")]
public sealed class ThrowingAsyncPlugin : IServerPlugin
{
    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/status", () => "up");
        await Task.Delay(10, cancellationToken);
        throw new InvalidOperationException("cache warm-up failed");
    }
}

public abstract class JournalingPlugin(ExitJournal journal, string id) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => TestPluginServices.AddJournal(services);

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual Task ExitAsync(CancellationToken cancellationToken)
    {
        journal.Exits.Enqueue(id);
        return Task.CompletedTask;
    }
}

[ServerPlugin("exit-a")]
public sealed class ExitAPlugin(ExitJournal journal) : JournalingPlugin(journal, "exit-a");

[ServerPlugin("exit-b")]
public sealed class ExitBPlugin(ExitJournal journal) : JournalingPlugin(journal, "exit-b");

[ServerPlugin("exit-c")]
public sealed class ExitCPlugin(ExitJournal journal) : JournalingPlugin(journal, "exit-c");

[ServerPlugin("exit-hangs")]
public sealed class ExitHangsPlugin(ExitJournal journal) : JournalingPlugin(journal, "exit-hangs")
{
    public override Task ExitAsync(CancellationToken cancellationToken)
    {
        base.ExitAsync(cancellationToken);
        return new TaskCompletionSource().Task; // Never completes and ignores the token.
    }
}

[ServerPlugin("exit-throws")]
public sealed class ExitThrowsPlugin(ExitJournal journal) : JournalingPlugin(journal, "exit-throws")
{
    public override Task ExitAsync(CancellationToken cancellationToken)
    {
        base.ExitAsync(cancellationToken);
        throw new InvalidOperationException("flush failed");
    }
}

[ServerPlugin("dev-only", Description = "Composed only in Development, like Tailchat's dev-only plugins", Environments = ["Development"])]
public sealed class DevOnlyPlugin : IServerPlugin
{
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/ping", () => "dev pong");
        return Task.CompletedTask;
    }
}

/// <summary>Serves and stores files in its private data directory; every path comes from the request.</summary>
[ServerPlugin("files")]
public sealed class FilesPlugin(IServerPluginContext context) : IServerPlugin
{
    public IServerPluginContext Context => context;

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/files/{**path}", (string path) => Guard(() =>
        {
            var full = context.ResolvePath(path);
            return File.Exists(full) ? Results.Text(File.ReadAllText(full)) : Results.NotFound();
        }));
        router.MapPut("/files/{**path}", async (string path, HttpRequest request) =>
        {
            string full;
            try
            {
                full = context.ResolvePath(path);
            }
            catch (UnauthorizedAccessException ex)
            {
                return Results.Problem(detail: ex.Message, statusCode: StatusCodes.Status403Forbidden);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await using var file = File.Create(full);
            await request.Body.CopyToAsync(file);
            return Results.NoContent();
        });
        router.MapGet("/whoami", () => $"{context.Descriptor.Id}:{context.Configuration["Motto"]}");
        return Task.CompletedTask;
    }

    private static IResult Guard(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (UnauthorizedAccessException ex)
        {
            return Results.Problem(detail: ex.Message, statusCode: StatusCodes.Status403Forbidden);
        }
    }
}

[ServerPlugin("bad-services")]
public sealed class BadServicesPlugin : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
        => throw new InvalidOperationException("connection string 'Notes' is missing");

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
}

// Every kind of text a C# literal must escape: quotes, backslashes, line breaks of every kind, NUL, the former table's
// separators (U+001F, U+001E) and a lone surrogate (valid in a .NET string, not in UTF-8).
[ServerPlugin("awkward-text", Name = "Ünïcödé \"quoted\" \\ name ✓", Description = "Line one\nline two\ttab, 𝄞, separators\u001F\u001E, NUL\0, \r\u0085\u2028\u2029 and a lone \uD800 surrogate")]
public sealed class AwkwardTextPlugin : IServerPlugin
{
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Counts the disposals of <see cref="DisposablePlugin"/>.</summary>
public sealed class DisposalJournal
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Record() => Interlocked.Increment(ref _count);
}

[ServerPlugin("disposable")]
public sealed class DisposablePlugin(DisposalJournal journal) : IServerPlugin, IAsyncDisposable
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => services.TryAddSingleton<DisposalJournal>();

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        journal.Record();
        return ValueTask.CompletedTask;
    }
}
