using Compose;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Compose.Testing.Tests;

// Plugins composed into this test assembly by the Compose generator, as into any host (a test project is one).

/// <summary>Where the notes plugin's timestamps come from: a dependency a test replaces.</summary>
public interface INoteClock
{
    DateTimeOffset Now { get; }
}

/// <summary>The real clock the notes plugin registers.</summary>
public sealed class SystemNoteClock : INoteClock
{
    public DateTimeOffset Now => DateTimeOffset.UtcNow;
}

/// <summary>The notes plugin's settings, from its own section.</summary>
/// <param name="MaxNotes">How many notes it keeps (setting <c>MaxNotes</c>, default 3).</param>
public sealed record NotesSettings(int MaxNotes);

/// <summary>Stores text notes, one per line, in notes.txt in its data directory; stamps each with the clock.</summary>
[ServerPlugin("notes", Name = "Notes", Description = "Stores notes in its data directory")]
public sealed class NotesPlugin(INoteClock clock, NotesSettings settings, IServerPluginContext context, ILogger<NotesPlugin> logger) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<INoteClock, SystemNoteClock>();
        services.AddSingleton(new NotesSettings(int.TryParse(configuration["MaxNotes"], out var max) ? max : 3));
    }

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        var file = context.ResolvePath("notes.txt");
        router.MapGet("/notes", () => File.Exists(file) ? File.ReadAllText(file) : string.Empty);
        router.MapPost("/notes", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var text = (await reader.ReadToEndAsync()).Trim();
            var count = File.Exists(file) ? File.ReadAllLines(file).Length : 0;
            if (count >= settings.MaxNotes)
            {
                return Results.Conflict($"at most {settings.MaxNotes} notes");
            }

            await File.AppendAllTextAsync(file, $"{clock.Now:O} {text}{Environment.NewLine}");
            logger.LogInformation("Saved note {Count}", count + 1);
            return Results.Created($"/api/plugins/notes/notes/{count + 1}", text);
        });
        router.MapPost("/later", () =>
        {
            _ = Task.Run(async () =>
            {
                await Task.Delay(200);
                logger.LogWarning("A line written later");
            });
            return Results.Accepted();
        });
        return Task.CompletedTask;
    }

    public Task ExitAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("[notes] Exiting.");
        return Task.CompletedTask;
    }
}

/// <summary>Throws from ConfigureServices when its setting <c>Explode</c> is true: a host that cannot start.</summary>
[ServerPlugin("exploding")]
public sealed class ExplodingPlugin : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        if (string.Equals(configuration["Explode"], "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("boom from ConfigureServices");
        }
    }

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/ok", () => "ok");
        return Task.CompletedTask;
    }
}

/// <summary>Composed only in Development: the test host's default environment, as WebApplicationFactory's.</summary>
[ServerPlugin("dev-tools", Environments = ["Development"])]
public sealed class DevToolsPlugin : IServerPlugin
{
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/env", (IHostEnvironment environment) => environment.EnvironmentName);
        return Task.CompletedTask;
    }
}
