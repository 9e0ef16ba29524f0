using Microsoft.Extensions.Logging;

namespace Compose.Integration.Tests;

// Plugins whose constructors the compiler accepts but no host can satisfy (issue 18, item 12); switched on only by
// ConstructorCheckTests.

/// <summary>A service nobody registers.</summary>
public interface IUnregisteredThing;

/// <summary>A scoped service: injecting it into a plugin (a singleton) would capture one scope's instance.</summary>
public sealed class ScopedThing;

[ServerPlugin("ctor-missing")]
public sealed class CtorMissingPlugin(IUnregisteredThing thing) : IServerPlugin
{
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/thing", () => thing.ToString());
        return Task.CompletedTask;
    }
}

[ServerPlugin("ctor-scoped")]
public sealed class CtorScopedPlugin(ScopedThing thing) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => services.AddScoped<ScopedThing>();

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/thing", () => thing.ToString());
        return Task.CompletedTask;
    }
}

/// <summary>A repository registered as an open generic (scoped in "ctor-open-scoped", singleton in "ctor-open-singleton").</summary>
public interface IRepository<T>
{
    string Describe();
}

/// <summary>The open generic implementation of <see cref="IRepository{T}"/>.</summary>
public sealed class Repository<T> : IRepository<T>
{
    public string Describe() => $"repository of {typeof(T).Name}";
}

/// <summary>The entity of the open generic plugins.</summary>
public sealed record Note(string Text);

[ServerPlugin("ctor-open-scoped")]
public sealed class CtorOpenScopedPlugin(IRepository<Note> notes) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
        => services.AddScoped(typeof(IRepository<>), typeof(Repository<>));

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/notes", () => notes.Describe());
        return Task.CompletedTask;
    }
}

/// <summary>
/// The same open generic as a singleton, with a closed scoped registration of another entity that must not matter, and
/// a logger (the logging package's own open generic singleton).
/// </summary>
[ServerPlugin("ctor-open-singleton")]
public sealed class CtorOpenSingletonPlugin(IRepository<Note> notes, ILogger<CtorOpenSingletonPlugin> logger) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(typeof(IRepository<>), typeof(Repository<>));
        services.AddScoped<IRepository<string>, Repository<string>>();
    }

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        logger.LogDebug("mapping /notes");
        router.MapGet("/notes", () => notes.Describe());
        return Task.CompletedTask;
    }
}

[ServerPlugin("ctor-optional")]
public sealed class CtorOptionalPlugin(IUnregisteredThing? thing = null) : IServerPlugin
{
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/thing", () => thing is null ? "none" : "some");
        return Task.CompletedTask;
    }
}

/// <summary>Needs a type from the HelloWorld package, which only that package's plugin registers (its plugin class).</summary>
[ServerPlugin("ctor-needs-hello")]
public sealed class CtorNeedsHelloPlugin(HelloWorld.HelloWorldPlugin hello) : IServerPlugin
{
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/hello", () => hello.GetType().Name);
        return Task.CompletedTask;
    }
}
