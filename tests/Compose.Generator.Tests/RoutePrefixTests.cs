using Compose.Generator.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using static Compose.Generator.Tests.Verifier;

namespace Compose.Generator.Tests;

/// <summary>CMP0013 at the pattern's span with its message, and the patterns and plugins it leaves alone.</summary>
public sealed class RoutePrefixTests
{
    [Fact]
    public Task CMP0013_PatternThatRepeatsTheHostPrefixOnThePattern()
        => AnalyzeAsync<RoutePrefixAnalyzer>(
            """
            [ServerPlugin("notes")]
            public sealed class NotesPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet({|#0:"/api/plugins/notes/list"|}, () => "list");
                    return Task.CompletedTask;
                }
            }
            """,
            new DiagnosticResult(ComposeDiagnostics.RoutePatternRepeatsPrefix).WithLocation(0).WithSeverity(DiagnosticSeverity.Warning)
                .WithArguments("NotesPlugin", "/api/plugins/notes/list", "notes", "/api/plugins/notes/list", "/list"));

    [Fact]
    public Task CMP0013_InAHelperOfThePluginAndThroughAConstant()
        => AnalyzeAsync<RoutePrefixAnalyzer>(
            """
            [ServerPlugin("notes")]
            public sealed class NotesPlugin : IServerPlugin
            {
                private const string Base = "/API/Plugins/notes";

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    Map(router);
                    return Task.CompletedTask;
                }

                private static void Map(IEndpointRouteBuilder router) => router.MapMethods({|CMP0013:Base + "/x"|}, ["GET"], () => "x");
            }
            """);

    [Fact]
    public Task CMP0013_RelativePatternsPluginsWithoutRoutesAndCodeOutsidePluginsAreAccepted()
        => AnalyzeAsync<RoutePrefixAnalyzer>(
            """
            [ServerPlugin("notes")]
            public sealed class NotesPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet("/list", () => "list");
                    router.MapGet("api/pluginsearch", () => "search");
                    router.MapGet("/docs/api/plugins", () => "docs");
                    return Task.CompletedTask;
                }
            }

            [ServerPlugin("worker")]
            public sealed class WorkerPlugin : IServerPlugin
            {
                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) => Task.CompletedTask;
            }

            public static class HostRoutes
            {
                public static void Map(IEndpointRouteBuilder app) => app.MapGet("/api/plugins/status", () => "host");
            }
            """);
}
