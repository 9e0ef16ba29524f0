using System.Globalization;
using System.Security;
using System.Text;

namespace Compose.Benchmarks.Runner;

/// <summary>The ways a test host composes its plugins.</summary>
internal enum Variant
{
    /// <summary>[ServerPlugin] classes in libraries that reference the Compose.Abstractions package; the generator composes them.</summary>
    Compose,

    /// <summary>The limit: one static class per plugin mapping a route group, called from Program.cs, RDG on in the libraries.</summary>
    HandWritten,

    /// <summary>Carter 10.0.0: ICarterModule classes found by the run-time assembly scan of AddCarter().</summary>
    Carter,

    /// <summary>MVC controllers found through ApplicationParts.</summary>
    Mvc,
}

internal static class VariantNames
{
    public static string Display(this Variant variant) => variant switch
    {
        Variant.Compose => "Compose",
        Variant.HandWritten => "hand-written",
        Variant.Carter => "Carter",
        Variant.Mvc => "MVC",
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };

    public static string Slug(this Variant variant) => variant.ToString().ToLowerInvariant();
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
    public static string Write(string directory, Variant variant, int plugins, string composeVersion)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        WriteContracts(Path.Combine(directory, "Contracts"));

        var libraries = (plugins + PluginsPerLibrary - 1) / PluginsPerLibrary;
        for (var library = 0; library < libraries; library++)
        {
            var first = (library * PluginsPerLibrary) + 1;
            var last = Math.Min(plugins, first + PluginsPerLibrary - 1);
            WriteLibrary(Path.Combine(directory, LibraryName(library)), variant, library, first, last, composeVersion);
        }

        return WriteHost(Path.Combine(directory, "Host"), variant, libraries, composeVersion);
    }

    private static string LibraryName(int library) => string.Create(CultureInfo.InvariantCulture, $"Bench.Plugins{library:D2}");

    private static void WriteContracts(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "Contracts.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <AssemblyName>Bench.Contracts</AssemblyName>
                <IsAotCompatible>true</IsAotCompatible>
              </PropertyGroup>
            </Project>
            """);
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
            """);
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
        var rdg = variant == Variant.HandWritten
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

    private static string WriteHost(string directory, Variant variant, int libraries, string composeVersion)
    {
        Directory.CreateDirectory(directory);
        var projectReferences = new StringBuilder();
        for (var library = 0; library < libraries; library++)
        {
            projectReferences.Append(CultureInfo.InvariantCulture, $"    <ProjectReference Include=\"../{LibraryName(library)}/{LibraryName(library)}.csproj\" />\n");
        }

        var packages = variant switch
        {
            Variant.Compose => $"""    <PackageReference Include="Compose.Abstractions" Version="{composeVersion}" />""",
            Variant.Carter => $"""    <PackageReference Include="Carter" Version="{CarterVersion}" />""",
            _ => string.Empty,
        };

        // Identical settings for every variant; PublishAot is given on the command line of the AOT publish only.
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
                <ProjectReference Include="../Contracts/Contracts.csproj" />
            {projectReferences}{packages}
              </ItemGroup>
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

        var (services, map) = variant switch
        {
            Variant.Compose => ("builder.Services.AddServerPlugins(builder.Configuration);", "app.MapServerPlugins();"),
            Variant.HandWritten => (string.Empty, string.Join("\n", Enumerable.Range(0, libraries).Select(l => $"{LibraryName(l)}.PluginRoutes.MapAll(app);"))),
            Variant.Carter => ("builder.Services.AddCarter();", "app.MapCarter();"),
            Variant.Mvc => (
                "builder.Services.AddControllers().AddJsonOptions(options => options.JsonSerializerOptions.TypeInfoResolverChain.Insert(0, BenchJsonContext.Default));",
                "app.MapControllers();"),
            _ => throw new ArgumentOutOfRangeException(nameof(variant)),
        };

        // The throughput benchmark compares a plugin route with the same handler mapped directly on the app.
        var direct = variant is Variant.Compose or Variant.HandWritten
            ? $"""
              app.MapGet("/direct/ping", {LibraryName(0)}.P0001.Ping);
              app.MapGet("/direct/items/{"{id:int}"}", {LibraryName(0)}.P0001.GetItem);
              """
            : string.Empty;
        var usings = variant == Variant.Carter ? "using Carter;\n" : string.Empty;
        File.WriteAllText(Path.Combine(directory, "Program.cs"), $"""
            using Bench.Contracts;
            {usings}
            var builder = WebApplication.CreateSlimBuilder(args);
            builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, BenchJsonContext.Default));
            {services}

            var app = builder.Build();
            {map}
            {direct}
            app.Run();
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
