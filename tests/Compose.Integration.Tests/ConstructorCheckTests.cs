using System.Net;
using Microsoft.Extensions.Logging;

namespace Compose.Integration.Tests;

/// <summary>Start-up checks of plugin constructors against the final service collection, before any InitAsync runs.</summary>
public sealed class ConstructorCheckTests
{
    [Fact]
    public async Task AParameterNoRegistrationProvides_FailsThatPluginWithTheParameterAndTheType()
    {
        await using var host = await PluginHost.StartAsync(["ctor-missing", "probe"]);

        var entry = host.Catalog.Find("ctor-missing")!;
        Assert.Equal(ServerPluginState.Failed, entry.State);
        Assert.Equal("constructor parameter 'thing' of plugin 'ctor-missing' needs Compose.Integration.Tests.IUnregisteredThing, which no service registration provides", entry.Error);
        Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("constructor parameter 'thing' of plugin 'ctor-missing'", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await host.Client.GetAsync("/api/plugins/ctor-missing/thing")).StatusCode);
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
    }

    [Fact]
    public async Task AScopedServiceInjectedIntoAPlugin_IsACaptiveDependency_WithTheAdvice()
    {
        await using var host = await PluginHost.StartAsync(["ctor-scoped"]);

        var error = host.Catalog.Find("ctor-scoped")!.Error;
        Assert.StartsWith("constructor parameter 'thing' of plugin 'ctor-scoped' needs Compose.Integration.Tests.ScopedThing, a scoped service", error, StringComparison.Ordinal);
        Assert.Contains("captive dependency", error, StringComparison.Ordinal);
        Assert.Contains("Inject IServiceScopeFactory", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AScopedOpenGenericRegistration_IsACaptiveDependency_NamedReadably()
    {
        await using var host = await PluginHost.StartAsync(["ctor-open-scoped", "probe"]);

        var entry = host.Catalog.Find("ctor-open-scoped")!;
        Assert.Equal(ServerPluginState.Failed, entry.State);
        Assert.StartsWith(
            "constructor parameter 'notes' of plugin 'ctor-open-scoped' needs Compose.Integration.Tests.IRepository<Compose.Integration.Tests.Note>, a scoped service",
            entry.Error,
            StringComparison.Ordinal);
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
    }

    [Fact]
    public async Task ASingletonOpenGenericRegistration_AndTheLoggersOpenGeneric_PassTheCheck()
    {
        await using var host = await PluginHost.StartAsync(["ctor-open-singleton"]);

        Assert.Equal(ServerPluginState.Running, host.Catalog.Find("ctor-open-singleton")!.State);
        Assert.Equal("repository of Note", await host.Client.GetStringAsync("/api/plugins/ctor-open-singleton/notes"));
    }

    [Fact]
    public async Task AnOptionalParameter_MayBeMissing()
    {
        await using var host = await PluginHost.StartAsync(["ctor-optional"]);

        Assert.Equal(ServerPluginState.Running, host.Catalog.Find("ctor-optional")!.State);
        Assert.Equal("none", await host.Client.GetStringAsync("/api/plugins/ctor-optional/thing"));
    }

    [Fact]
    public async Task ATypeFromASwitchedOffPluginsPackage_SaysThatPluginIsOff_AndHowToDeclareIt()
    {
        await using var host = await PluginHost.StartAsync(["ctor-needs-hello"]);

        Assert.Equal(
            "constructor parameter 'hello' of plugin 'ctor-needs-hello' needs HelloWorld.HelloWorldPlugin, which no service registration provides; "
            + "it comes from Compose.Samples.HelloWorld, whose plugin 'hello-world' is disabled, so its ConfigureServices did not run: "
            + "switch it on, or declare DependsOn = [\"hello-world\"] on 'ctor-needs-hello' so that it is switched off with it",
            host.Catalog.Find("ctor-needs-hello")!.Error);

        await using var withHello = await PluginHost.StartAsync(["ctor-needs-hello", "hello-world"]);
        Assert.Equal("HelloWorldPlugin", await withHello.Client.GetStringAsync("/api/plugins/ctor-needs-hello/hello"));
    }

    [Fact]
    public async Task WithFailFast_AConstructorProblemRefusesStartUp()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PluginHost.StartAsync(["ctor-missing"], configure: o => o.FailFast = true));

        Assert.Contains("constructor parameter 'thing' of plugin 'ctor-missing'", error.Message, StringComparison.Ordinal);
    }
}
