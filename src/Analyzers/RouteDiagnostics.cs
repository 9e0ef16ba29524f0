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

    /// <summary>
    /// The route rules could not follow the router to the end: too many nested calls, a method with no visible body, a
    /// delegate or callback whose code is not in the compilation. A warning, so code Compose cannot see is never accepted in silence.
    /// </summary>
    public static readonly DiagnosticDescriptor AnalysisGaveUp = new(
        "CMP0014",
        "Route registration could not be checked",
        "Server plugin {0}: Compose could not check what happens to the router, {1}; make sure every route is registered before InitAsync's first await and no reference to the router is kept, then suppress this warning here",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "CMP0014.md");
}
