using Microsoft.CodeAnalysis;
using Snapshooter.Xunit;
using static Compose.Generator.Tests.GeneratorHarness;

namespace Compose.Generator.Tests;

/// <summary>Snapshots of the code the generator writes, for the shapes of plugin a host composes.</summary>
public sealed class GeneratedSourceSnapshotTests
{
    private const string HostFile = "Compose.Host.g.cs";
    private const string ManifestFile = "Compose.Manifest.g.cs";

    [Fact]
    public void OnePlugin()
    {
        var host = GenerateHost("""
            namespace Hello;

            [ServerPlugin("hello-world", Name = "Hello World", Description = "A minimal server plugin")]
            public sealed class HelloWorldPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet("/hello", () => "Hello from server plugin!");
                    return Task.CompletedTask;
                }
            }
            """);

        Snapshot.Match(Scrub(host));
    }

    [Fact]
    public void SeveralPluginsAreOrderedById()
    {
        var host = GenerateHost(
            """
            namespace Zoo;

            [ServerPlugin("zebra")]
            public sealed class ZebraPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }

            [ServerPlugin("aardvark", Name = "Aardvark")]
            public sealed class AardvarkPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """,
            """
            namespace Zoo.Birds;

            [ServerPlugin("my_plugin-2", Description = "Quotes \"escaped\" and a\nnew line")]
            public sealed class Plugin2 : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);

        Assert.Contains("0 => new(\"aardvark\", ", host, StringComparison.Ordinal);
        Assert.Contains("1 => new(\"my_plugin-2\", ", host, StringComparison.Ordinal);
        Assert.Contains("2 => new(\"zebra\", ", host, StringComparison.Ordinal);
        Assert.Contains("\"Quotes \\\"escaped\\\" and a\\nnew line\", ", host, StringComparison.Ordinal);
        Snapshot.Match(Scrub(host));
    }

    [Fact]
    public void ConstructorDependencies()
    {
        var host = GenerateHost("""
            namespace Deps;

            public interface IClock { DateTimeOffset Now { get; } }
            public interface ICache { }

            [ServerPlugin("deps")]
            public sealed class DepsPlugin(
                ILogger<DepsPlugin> logger,
                IClock clock,
                [FromKeyedServices("fast")] ICache cache,
                IServiceProvider services,
                ICache? optional = null) : IServerPlugin
            {
                public object?[] Dependencies => [logger, clock, cache, services, optional];

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);

        Snapshot.Match(Scrub(host));
    }

    [Fact]
    public void ConfigureServices()
    {
        var host = GenerateHost("""
            namespace Configured;

            public sealed class Settings { public string? Greeting { get; set; } }

            [ServerPlugin("configured")]
            public sealed class ConfiguredPlugin : IServerPlugin
            {
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
                    => services.AddSingleton(new Settings { Greeting = configuration["Greeting"] });

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);

        Assert.Contains("case 0:\n                    global::Configured.ConfiguredPlugin.ConfigureServices(services, configuration);", host, StringComparison.Ordinal);
        Snapshot.Match(Scrub(host));
    }

    [Fact]
    public void ExitAsync()
    {
        var host = GenerateHost("""
            namespace Exiting;

            [ServerPlugin("exiting")]
            public sealed class ExitingPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;

                public Task ExitAsync(CancellationToken cancellationToken) => Task.CompletedTask;
            }

            [ServerPlugin("staying")]
            public sealed class StayingPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);

        Snapshot.Match(Scrub(host));
    }

    [Fact]
    public void PluginLimitedToEnvironments()
    {
        var library = BuildLibrary("Acme.Diagnostics", """
            namespace Acme.Diagnostics;

            [ServerPlugin("diagnostics", Environments = ["Development", "Staging"])]
            public sealed class DiagnosticsPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);
        var host = GenerateHost("""
            namespace Local;

            [ServerPlugin("local-dev", Environments = ["Development"])]
            public sealed class LocalDevPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);
        var (result, _) = Run(Compile("Acme.Host", OutputKind.ConsoleApplication, [library], "public static class Nothing { }"));

        Assert.Contains(", environments: new string[] { \"Development\" })", host, StringComparison.Ordinal);
        Assert.Contains(", environments: new string[] { \"Development\", \"Staging\" })", GeneratedSource(result, HostFile), StringComparison.Ordinal);
        Snapshot.Match(Scrub(host));
    }

    [Fact]
    public void PluginsFromReferencedAssemblies()
    {
        var first = BuildLibrary("Acme.Weather", """
            namespace Acme.Weather;

            [ServerPlugin("weather", Name = "Weather", Description = "Forecasts")]
            public sealed class WeatherPlugin(ILogger<WeatherPlugin> logger) : IServerPlugin
            {
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) { }

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;

                public Task ExitAsync(CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);
        var second = BuildLibrary("Acme.Notes", """
            namespace Acme.Notes;

            [ServerPlugin("notes")]
            public sealed class NotesPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);

        var compilation = Compile("Acme.Host", OutputKind.ConsoleApplication, [first, second], """
            namespace Acme.Host;

            [ServerPlugin("local")]
            public sealed class LocalPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);
        var (result, output) = Run(compilation);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        Snapshot.Match(Scrub(GeneratedSource(result, HostFile)));
    }

    [Fact]
    public void PluginLibraryGetsOnlyItsManifest()
    {
        var compilation = Compile("Acme.Weather", OutputKind.DynamicallyLinkedLibrary, null, """
            namespace Acme.Weather;

            [ServerPlugin("weather", Name = "Weather", Description = "Forecasts")]
            public sealed class WeatherPlugin : IServerPlugin
            {
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) { }

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);
        var (result, output) = Run(compilation);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        Assert.False(HasSource(result, HostFile));
        Snapshot.Match(Scrub(GeneratedSource(result, ManifestFile)));
    }

    [Fact]
    public void HostWithoutPlugins()
    {
        var (result, output) = Run(Compile("Empty.Host", OutputKind.ConsoleApplication, null, "namespace Empty.Host; public static class Nothing { }"));

        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        Assert.False(HasSource(result, ManifestFile));
        Snapshot.Match(Scrub(GeneratedSource(result, HostFile)));
    }

    [Fact]
    public void ObsoletePluginClassConstructorAndConfigureServicesCompileWithoutWarnings()
    {
        var host = GenerateHost("""
            namespace Old;

            [System.Obsolete("Use the new plugin")]
            [ServerPlugin("old")]
            public sealed class OldPlugin : IServerPlugin
            {
                [System.Obsolete("Use the other constructor")]
                public OldPlugin(ILogger<OldPlugin> logger) => _ = logger;

                [System.Obsolete]
                public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) { }

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);

        Assert.Contains("#pragma warning disable CS0612, CS0618", host, StringComparison.Ordinal);
        Assert.Contains("#pragma warning restore CS0612, CS0618", host, StringComparison.Ordinal);
    }

    [Fact]
    public void MoreThan64PluginsAreListedInMethodsOf64()
    {
        var host = GenerateHost(ManyPlugins(66));

        Assert.Contains("GetDescriptor(int index) => (index / 64) switch", host, StringComparison.Ordinal);
        Assert.Contains("private static global::Compose.ServerPluginDescriptor GetDescriptor1(int index) => index switch", host, StringComparison.Ordinal);
        Assert.Contains("65 => new global::Many.P065(", host, StringComparison.Ordinal);
        Snapshot.Match(Scrub(host));
    }

    [Theory]
    [InlineData(64)] // the largest single switch
    [InlineData(65)] // one full method of 64 and one of 1
    [InlineData(130)] // two full methods of 64 and one of 2
    public void AHostWithManyPlugins_ReadsEveryDescriptorAndConstructsEveryPlugin_AtItsIndex(int count)
    {
        // Every fifth plugin takes a constructor parameter.
        var (result, output) = Run(Compile("Test.ManyHost", OutputKind.ConsoleApplication, null, ManyPlugins(count)));
        Assert.Equal(count > 64, GeneratedSource(result, HostFile).Contains("(index / 64) switch", StringComparison.Ordinal));
        Assert.Empty(result.Diagnostics);
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join(Environment.NewLine, emit.Diagnostics));
        var assembly = System.Reflection.Assembly.Load(stream.ToArray());
        var set = (Compose.Hosting.ServerPluginSet)assembly.GetType("Compose.Generated.ComposedServerPlugins", throwOnError: true)!
            .GetProperty("Instance")!.GetValue(null)!;

        var ids = set.Descriptors.Select(d => d.Id).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"p-{i:D3}"), ids);
        var create = typeof(Compose.Hosting.ServerPluginSet).GetMethod("CreatePlugin", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var services = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(new Microsoft.Extensions.DependencyInjection.ServiceCollection(), typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(Microsoft.Extensions.Logging.Abstractions.NullLogger<>)));
        for (var i = 0; i < count; i++)
        {
            var plugin = create.Invoke(set, [i, services])!;
            Assert.Equal($"Many.P{i:D3}", plugin.GetType().FullName);
            Assert.Equal(plugin.GetType(), set.Descriptors[i].PluginType);
        }
    }

    /// <summary>A host source with <paramref name="count"/> plugins p-000, p-001, ...; every fifth has a constructor parameter.</summary>
    private static string ManyPlugins(int count)
    {
        var source = new System.Text.StringBuilder("namespace Many;\n");
        for (var i = 0; i < count; i++)
        {
            var constructor = i % 5 == 0 ? $"public P{i:D3}(ILogger<P{i:D3}> logger) => _ = logger;\n\n    " : "";
            source.Append($$"""

                [ServerPlugin("p-{{i:D3}}")]
                public sealed class P{{i:D3}} : IServerPlugin
                {
                    {{constructor}}public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
                }

                """);
        }

        return source.ToString();
    }

    /// <summary>The generator's version is in headers, attributes and manifests: snapshots hold a placeholder instead.</summary>
    private static string Scrub(string source)
        => source
            .Replace($"Compose.Generator {ComposeGenerator.Version}:", "Compose.Generator {version}:", StringComparison.Ordinal)
            .Replace($"\"Compose.Generator\", \"{ComposeGenerator.Version}\"", "\"Compose.Generator\", \"{version}\"", StringComparison.Ordinal)
            .Replace($"ComposeVersion = \"{ComposeGenerator.Version}\"", "ComposeVersion = \"{version}\"", StringComparison.Ordinal);

    private static string GenerateHost(params string[] sources)
    {
        var (result, output) = Run(Compile("Test.Host", OutputKind.ConsoleApplication, null, sources));
        Assert.Empty(result.Diagnostics);
        Assert.Empty(CompilerProblems(output));
        return GeneratedSource(result, HostFile);
    }
}
