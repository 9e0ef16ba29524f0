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
