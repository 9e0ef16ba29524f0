using System.Globalization;
using System.Security;
using System.Text;

namespace Compose.Benchmarks.Runner;

/// <summary>The ways a test host composes its plugins.</summary>
internal enum Variant
{
    /// <summary>[ServerPlugin] classes in libraries that reference the Compose.Abstractions package; the generator composes them.</summary>
    Compose,

    /// <summary>The routes-only floor: one static class per plugin mapping a route group, called from Program.cs, RDG on in the libraries.</summary>
    HandWritten,

    /// <summary>
    /// The limit for generated code (issue 16): Compose's contract written by hand, an instance class per plugin behind an
    /// interface, registered with <c>AddSingleton&lt;IPlugin, P0001&gt;()</c> and mapped in a loop over <c>GetServices&lt;IPlugin&gt;()</c>.
    /// </summary>
    SameContract,

    /// <summary>Carter 10.0.0: ICarterModule classes found by the run-time assembly scan of AddCarter().</summary>
    Carter,

    /// <summary>MVC controllers found through ApplicationParts.</summary>
    Mvc,

    /// <summary>The Compose host with an OpenTelemetry MeterProvider listening (issue 13 item 8); the Compose plugin libraries.</summary>
    ComposeListening,

    /// <summary>The same-contract host with the same MeterProvider; the same-contract plugin libraries.</summary>
    SameContractListening,
}

/// <summary>How a host is published and run.</summary>
internal enum Mode
{
    /// <summary>Framework-dependent, everything JIT-compiled at run time.</summary>
    Jit,

    /// <summary>Framework-dependent with <c>PublishReadyToRun</c>: the app's assemblies precompiled, the JIT for the rest.</summary>
    ReadyToRun,

    /// <summary>Native AOT.</summary>
    Aot,
}

internal static class ModeNames
{
    /// <summary>The name in results.json and the tables: JIT, R2R, AOT.</summary>
    public static string Display(this Mode mode) => mode switch
    {
        Mode.Jit => "JIT",
        Mode.ReadyToRun => "R2R",
        Mode.Aot => "AOT",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    public static string Slug(this Mode mode) => mode.Display().ToLowerInvariant();
}

internal static class VariantNames
{
    public static string Display(this Variant variant) => variant switch
    {
        Variant.Compose => "Compose",
        Variant.HandWritten => "static hand-written",
        Variant.SameContract => "same-contract hand-written",
        Variant.Carter => "Carter",
        Variant.Mvc => "MVC",
        Variant.ComposeListening => "Compose, listener",
        Variant.SameContractListening => "same-contract, listener",
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };

    public static string Slug(this Variant variant) => variant.ToString().ToLowerInvariant();

    /// <summary>The variant whose plugin libraries a host uses: a listening host differs from its base in Program.cs only.</summary>
    public static Variant Libraries(this Variant variant) => variant switch
    {
        Variant.ComposeListening => Variant.Compose,
        Variant.SameContractListening => Variant.SameContract,
        _ => variant,
    };

    /// <summary>Whether the host runs an OpenTelemetry MeterProvider.</summary>
    public static bool Listening(this Variant variant) => variant is Variant.ComposeListening or Variant.SameContractListening;

    /// <summary>The same-contract host a variant's start-up is held against: the one with the same listener setting.</summary>
    public static Variant SameContractOf(this Variant variant) => variant.Listening() ? Variant.SameContractListening : Variant.SameContract;
}

/// <summary>
/// Writes a test host: <c>N</c> plugins spread over plugin libraries of 20 each, every plugin with
/// GET /ping (a constant string), GET /items/{id:int} (a record as JSON through a source-generated
/// JsonSerializerContext) and POST /echo (a JSON record in and out), all mounted under /api/plugins/{id}/; a
/// Contracts library with the records and the context; and a host on CreateSlimBuilder with the default
/// appsettings.json logging. The folder is its own MSBuild and NuGet island (nothing imported from the repository).
/// </summary>
internal static class TestHosts
{
    public const int PluginsPerLibrary = 20;
    public const string CarterVersion = "10.0.0";
    public const string HostAssembly = "BenchHost";

    /// <summary>The plugin id of plugin number <paramref name="index"/> (1-based).</summary>
    public static string Id(int index) => string.Create(CultureInfo.InvariantCulture, $"p-{index:D4}");

    /// <summary>The route whose first 200 ends a start-up measurement: the last plugin's /items/{id}.</summary>
    public static string LastPluginRoute(int plugins) => $"/api/plugins/{Id(plugins)}/items/42";

    /// <summary>Writes the nuget.config and empty Directory.* files that make <paramref name="root"/> independent of the repository.</summary>
    public static void WriteIsland(string root, string feed)
    {
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="compose" value="{SecurityElement.Escape(feed)}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(root, name), "<Project />\n");
        }
    }

    /// <summary>Writes the host for <paramref name="variant"/> with <paramref name="plugins"/> plugins into <paramref name="directory"/>.</summary>
    /// <param name="composeVersion">The Compose.Abstractions package version in the island's feed.</param>
    /// <returns>The host project's path.</returns>
    /// <param name="libraryDirectory">
    /// Where the plugin libraries and Contracts are: <paramref name="directory"/>, or, for a listening variant, the
    /// directory of its base variant (<see cref="VariantNames.Libraries"/>), which must have been written first.
    /// </param>
    public static string Write(string directory, string libraryDirectory, Variant variant, int plugins, string composeVersion)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        var libraries = (plugins + PluginsPerLibrary - 1) / PluginsPerLibrary;
        if (variant.Libraries() == variant)
        {
            WriteContracts(Path.Combine(directory, "Contracts"), variant);
            for (var library = 0; library < libraries; library++)
            {
                var first = (library * PluginsPerLibrary) + 1;
                var last = Math.Min(plugins, first + PluginsPerLibrary - 1);
                WriteLibrary(Path.Combine(directory, LibraryName(library)), variant, library, first, last, composeVersion);
            }
        }
        else if (!File.Exists(Path.Combine(libraryDirectory, "Contracts", "Contracts.csproj")))
        {
            throw new InvalidOperationException($"{variant.Display()} uses the plugin libraries of {variant.Libraries().Display()}: write that host first ({libraryDirectory}).");
        }

        var relative = Path.GetRelativePath(Path.Combine(directory, "Host"), libraryDirectory);
        return WriteHost(Path.Combine(directory, "Host"), relative, variant, libraries, composeVersion);
    }

    private static string LibraryName(int library) => string.Create(CultureInfo.InvariantCulture, $"Bench.Plugins{library:D2}");

    private static void WriteContracts(string directory, Variant variant)
    {
        Directory.CreateDirectory(directory);

        // The same-contract variant's plugin interface lives beside the records, so Contracts references ASP.NET Core there only.
        var sameContract = variant == Variant.SameContract;
        var framework = sameContract ? """<ItemGroup><FrameworkReference Include="Microsoft.AspNetCore.App" /></ItemGroup>""" : string.Empty;
        File.WriteAllText(Path.Combine(directory, "Contracts.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <AssemblyName>Bench.Contracts</AssemblyName>
                <IsAotCompatible>true</IsAotCompatible>
              </PropertyGroup>
              {framework}
            </Project>
            """);
        var pluginInterface = sameContract
            ? """

            /// <summary>A plugin of the same-contract hand-written host: an instance in DI, mapped onto its own route group.</summary>
            public interface IPlugin
            {
                /// <summary>The plugin id, the last segment of its route prefix.</summary>
                string Id { get; }

                /// <summary>Maps the plugin's routes onto <paramref name="group"/> (/api/plugins/{Id}).</summary>
                void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder group);
            }
            """
            : string.Empty;
        File.WriteAllText(Path.Combine(directory, "Contracts.cs"), """
            using System.Text.Json;
            using System.Text.Json.Serialization;

            namespace Bench.Contracts;

            /// <summary>What GET /items/{id} returns.</summary>
            public sealed record Item(int Id, string Name);

            /// <summary>What POST /echo reads and returns.</summary>
            public sealed record Message(string Text, int Count);

            /// <summary>Source-generated JSON for the records, registered once by the host.</summary>
            [JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
            [JsonSerializable(typeof(Item))]
            [JsonSerializable(typeof(Message))]
            public sealed partial class BenchJsonContext : JsonSerializerContext;
            """ + pluginInterface);
    }

    private static void WriteLibrary(string directory, Variant variant, int library, int first, int last, string composeVersion)
    {
        Directory.CreateDirectory(directory);
        var name = LibraryName(library);
        var references = variant switch
        {
            Variant.Compose => $"""<PackageReference Include="Compose.Abstractions" Version="{composeVersion}" />""",
            Variant.Carter => $"""<PackageReference Include="Carter" Version="{CarterVersion}" />""",
            _ => string.Empty,
        };

        // The hand-written limit switches the Request Delegate Generator on in its libraries, as Compose's package
        // does for plugin libraries; Carter and MVC libraries are written as their documentation shows.
        var rdg = variant is Variant.HandWritten or Variant.SameContract
            ? """
                <EnableRequestDelegateGenerator>true</EnableRequestDelegateGenerator>
                <InterceptorsNamespaces>$(InterceptorsNamespaces);Microsoft.AspNetCore.Http.Generated</InterceptorsNamespaces>
              """
            : string.Empty;
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <RootNamespace>{name}</RootNamespace>
                {rdg}
              </PropertyGroup>
              <ItemGroup>
                <FrameworkReference Include="Microsoft.AspNetCore.App" />
                <ProjectReference Include="../Contracts/Contracts.csproj" />
                {references}
              </ItemGroup>
            </Project>
            """);

        for (var index = first; index <= last; index++)
        {
            File.WriteAllText(Path.Combine(directory, $"P{index:D4}.cs"), Plugin(variant, name, index));
        }

        if (variant == Variant.HandWritten)
        {
            var calls = new StringBuilder();
            for (var index = first; index <= last; index++)
            {
                calls.Append(CultureInfo.InvariantCulture, $"        P{index:D4}.Map(app);\n");
            }

            File.WriteAllText(Path.Combine(directory, "PluginRoutes.cs"), $$"""
                using Microsoft.AspNetCore.Routing;

                namespace {{name}};

                /// <summary>Maps every plugin of this library.</summary>
                public static class PluginRoutes
                {
                    public static void MapAll(IEndpointRouteBuilder app)
                    {
                {{calls}}    }
                }
                """);
        }

        if (variant == Variant.SameContract)
        {
            var registrations = new StringBuilder();
            for (var index = first; index <= last; index++)
            {
                registrations.Append(CultureInfo.InvariantCulture, $"        services.AddSingleton<IPlugin, P{index:D4}>();\n");
            }

            File.WriteAllText(Path.Combine(directory, "PluginServices.cs"), $$"""
                using Bench.Contracts;
                using Microsoft.Extensions.DependencyInjection;

                namespace {{name}};

                /// <summary>Registers every plugin of this library as an <see cref="IPlugin"/>.</summary>
                public static class PluginServices
                {
                    public static void AddAll(IServiceCollection services)
                    {
                {{registrations}}    }
                }
                """);
        }
    }

    private static string Plugin(Variant variant, string ns, int index)
    {
        var id = Id(index);
        var handlers = $$"""
                public static string Ping() => "pong";

                public static Item GetItem(int id) => new(id, "{{id}}");

                public static Message Echo(Message message) => message;
            """;
        return variant switch
        {
            Variant.Compose => $$"""
                using Bench.Contracts;
                using Compose;
                using Microsoft.AspNetCore.Builder;
                using Microsoft.AspNetCore.Routing;

                namespace {{ns}};

                [ServerPlugin("{{id}}")]
                public sealed class P{{index:D4}} : IServerPlugin
                {
                    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                    {
                        router.MapGet("/ping", Ping);
                        router.MapGet("/items/{id:int}", GetItem);
                        router.MapPost("/echo", Echo);
                        return Task.CompletedTask;
                    }

                {{handlers}}
                }
                """,
            Variant.HandWritten => $$"""
                using Bench.Contracts;
                using Microsoft.AspNetCore.Builder;
                using Microsoft.AspNetCore.Routing;

                namespace {{ns}};

                public static class P{{index:D4}}
                {
                    public static void Map(IEndpointRouteBuilder app)
                    {
                        var group = app.MapGroup("/api/plugins/{{id}}");
                        group.MapGet("/ping", Ping);
                        group.MapGet("/items/{id:int}", GetItem);
                        group.MapPost("/echo", Echo);
                    }

                {{handlers}}
                }
                """,
            Variant.SameContract => $$"""
                using Bench.Contracts;
                using Microsoft.AspNetCore.Builder;
                using Microsoft.AspNetCore.Routing;

                namespace {{ns}};

                public sealed class P{{index:D4}} : IPlugin
                {
                    public string Id => "{{id}}";

                    public void Map(IEndpointRouteBuilder group)
                    {
                        group.MapGet("/ping", Ping);
                        group.MapGet("/items/{id:int}", GetItem);
                        group.MapPost("/echo", Echo);
                    }

                {{handlers}}
                }
                """,
            Variant.Carter => $$"""
                using Bench.Contracts;
                using Carter;
                using Microsoft.AspNetCore.Builder;
                using Microsoft.AspNetCore.Routing;

                namespace {{ns}};

                public sealed class P{{index:D4}} : ICarterModule
                {
                    public void AddRoutes(IEndpointRouteBuilder app)
                    {
                        var group = app.MapGroup("/api/plugins/{{id}}");
                        group.MapGet("/ping", Ping);
                        group.MapGet("/items/{id:int}", GetItem);
                        group.MapPost("/echo", Echo);
                    }

                {{handlers}}
                }
                """,
            Variant.Mvc => $$"""
                using Bench.Contracts;
                using Microsoft.AspNetCore.Mvc;

                namespace {{ns}};

                [ApiController]
                [Route("api/plugins/{{id}}")]
                public sealed class P{{index:D4}}Controller : ControllerBase
                {
                    [HttpGet("ping")]
                    public string Ping() => "pong";

                    [HttpGet("items/{id:int}")]
                    public Item GetItem(int id) => new(id, "{{id}}");

                    [HttpPost("echo")]
                    public Message Echo(Message message) => message;
                }
                """,
            _ => throw new ArgumentOutOfRangeException(nameof(variant)),
        };
    }

    /// <summary>The OpenTelemetry packages of the listening hosts (the versions the repository's sample host uses).</summary>
    public const string OpenTelemetryVersion = "1.20.1";

    public const string OpenTelemetryAspNetCoreVersion = "1.20.2";

    /// <summary>How often the listening hosts' metric reader collects and exports, in milliseconds.</summary>
    public const int ExportIntervalMilliseconds = 1000;

    private static string WriteHost(string directory, string libraries, Variant variant, int libraryCount, string composeVersion)
    {
        Directory.CreateDirectory(directory);
        var projectReferences = new StringBuilder();
        for (var library = 0; library < libraryCount; library++)
        {
            projectReferences.Append(CultureInfo.InvariantCulture, $"    <ProjectReference Include=\"{libraries}/{LibraryName(library)}/{LibraryName(library)}.csproj\" />\n");
        }

        var packages = new StringBuilder();
        if (variant.Libraries() == Variant.Compose)
        {
            packages.Append(CultureInfo.InvariantCulture, $"""    <PackageReference Include="Compose.Abstractions" Version="{composeVersion}" />""").Append('\n');
        }

        if (variant == Variant.Carter)
        {
            packages.Append(CultureInfo.InvariantCulture, $"""    <PackageReference Include="Carter" Version="{CarterVersion}" />""").Append('\n');
        }

        if (variant.Listening())
        {
            packages.Append(CultureInfo.InvariantCulture, $"""    <PackageReference Include="OpenTelemetry.Extensions.Hosting" Version="{OpenTelemetryVersion}" />""").Append('\n');
            packages.Append(CultureInfo.InvariantCulture, $"""    <PackageReference Include="OpenTelemetry.Instrumentation.AspNetCore" Version="{OpenTelemetryAspNetCoreVersion}" />""").Append('\n');
        }

        // Identical settings for every variant; PublishAot and PublishReadyToRun are given on the command line of their publish only.
        File.WriteAllText(Path.Combine(directory, "Host.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <AssemblyName>{HostAssembly}</AssemblyName>
                <InvariantGlobalization>true</InvariantGlobalization>
                <EnableRequestDelegateGenerator>true</EnableRequestDelegateGenerator>
                <InterceptorsNamespaces>$(InterceptorsNamespaces);Microsoft.AspNetCore.Http.Generated</InterceptorsNamespaces>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{libraries}/Contracts/Contracts.csproj" />
            {projectReferences}{packages}  </ItemGroup>
            </Project>
            """);

        // What `dotnet new web` writes.
        File.WriteAllText(Path.Combine(directory, "appsettings.json"), """
            {
              "Logging": {
                "LogLevel": {
                  "Default": "Information",
                  "Microsoft.AspNetCore": "Warning"
                }
              },
              "AllowedHosts": "*"
            }
            """);
        WriteUnrelated(directory, 0);

        var (services, map) = variant.Libraries() switch
        {
            Variant.Compose => ("builder.Services.AddServerPlugins(builder.Configuration);", "app.MapServerPlugins();"),
            Variant.HandWritten => (string.Empty, string.Join("\n", Enumerable.Range(0, libraryCount).Select(l => $"{LibraryName(l)}.PluginRoutes.MapAll(app);"))),
            Variant.SameContract => (
                string.Join("\n", Enumerable.Range(0, libraryCount).Select(l => $"{LibraryName(l)}.PluginServices.AddAll(builder.Services);")),
                """
                foreach (var p in app.Services.GetServices<IPlugin>())
                {
                    p.Map(app.MapGroup("/api/plugins/" + p.Id));
                }
                """),
            Variant.Carter => ("builder.Services.AddCarter();", "app.MapCarter();"),
            Variant.Mvc => (
                "builder.Services.AddControllers().AddJsonOptions(options => options.JsonSerializerOptions.TypeInfoResolverChain.Insert(0, BenchJsonContext.Default));",
                "app.MapControllers();"),
            _ => throw new ArgumentOutOfRangeException(nameof(variant)),
        };

        // The listening hosts collect metrics as a production host would (ASP.NET Core's hosting and Kestrel meters through
        // the AspNetCore instrumentation, and Compose's meter, named "Compose"), into an exporter that reads every point of
        // every collection and sends nothing anywhere, so no network or console cost is measured.
        var telemetry = variant.Listening()
            ? string.Create(CultureInfo.InvariantCulture, $"""
                builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
                    .AddAspNetCoreInstrumentation()
                    .AddMeter("Compose")
                    .AddReader(new PeriodicExportingMetricReader(new DiscardingExporter(), exportIntervalMilliseconds: {ExportIntervalMilliseconds})));
                """)
            : string.Empty;
        var exporter = variant.Listening()
            ? """

            /// <summary>Reads every metric point of a collection, as an exporter serializing them would, and keeps nothing.</summary>
            internal sealed class DiscardingExporter : BaseExporter<Metric>
            {
                private long points;

                public override ExportResult Export(in Batch<Metric> batch)
                {
                    foreach (var metric in batch)
                    {
                        foreach (ref readonly var point in metric.GetMetricPoints())
                        {
                            points += point.Tags.Count + 1;
                        }
                    }

                    return points >= 0 ? ExportResult.Success : ExportResult.Failure;
                }
            }
            """
            : string.Empty;

        // The throughput benchmark compares a plugin route with the same handler mapped directly on the app.
        var direct = variant.Libraries() is Variant.Compose or Variant.HandWritten or Variant.SameContract
            ? $"""
              app.MapGet("/direct/ping", {LibraryName(0)}.P0001.Ping);
              app.MapGet("/direct/items/{"{id:int}"}", {LibraryName(0)}.P0001.GetItem);
              """
            : string.Empty;
        var usings = variant switch
        {
            Variant.Carter => "using Carter;\n",
            _ when variant.Listening() => "using OpenTelemetry;\nusing OpenTelemetry.Metrics;\n",
            _ => string.Empty,
        };
        File.WriteAllText(Path.Combine(directory, "Program.cs"), $"""
            using Bench.Contracts;
            {usings}
            var builder = WebApplication.CreateSlimBuilder(args);
            builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, BenchJsonContext.Default));
            {telemetry}
            {services}

            var app = builder.Build();
            {map}
            {direct}
            app.Run();
            {exporter}
            """);
        return Path.Combine(directory, "Host.csproj");
    }

    /// <summary>(Re)writes the host's Unrelated.cs, the file the incremental build benchmark edits.</summary>
    public static void WriteUnrelated(string hostDirectory, int edit) =>
        File.WriteAllText(Path.Combine(hostDirectory, "Unrelated.cs"), string.Create(CultureInfo.InvariantCulture, $$"""
            namespace BenchHost;

            // Edit {{edit}}: this file has nothing to do with the plugins.
            internal static class Unrelated
            {
                public static int Value => {{edit}};
            }
            """));
}
