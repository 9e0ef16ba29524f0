using Microsoft.CodeAnalysis;

namespace Compose.Analyzers;

/// <summary>The diagnostics of Compose.Analyzers: the rules that need method bodies. IDs continue Compose's catalog.</summary>
internal static class RouteDiagnostics
{
    public const string Category = "Compose";
    private const string HelpLinkBase = "https://github.com/compose-dotnet/compose/blob/main/docs/diagnostics/";

    public static readonly DiagnosticDescriptor RouteAfterAwait = new(
        "CMP0008",
        "Route registered after an await",
        "Server plugin {0} uses the router after an await{1}; its route group is closed once InitAsync returns its task, so register every route before the first await and do the asynchronous work after",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "CMP0008.md");

    public static readonly DiagnosticDescriptor RouterEscapes = new(
        "CMP0009",
        "Router outlives InitAsync",
        "Server plugin {0} lets the router outlive InitAsync: {1}; register routes synchronously in InitAsync and keep no reference to the router",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "CMP0009.md");
}
