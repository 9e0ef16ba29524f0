using Microsoft.CodeAnalysis;

namespace Compose.Generator;

/// <summary>
/// The catalog of Compose diagnostics. IDs are stable; each has a page at <c>docs/diagnostics/{id}.md</c>.
/// CMP0008 and CMP0009 (route registration rules) belong to Compose.Analyzers.
/// </summary>
internal static class ComposeDiagnostics
{
    public const string Category = "Compose";
    private const string HelpLinkBase = "https://github.com/compose-dotnet/compose/blob/main/docs/diagnostics/";

    public static readonly DiagnosticDescriptor InvalidPluginId = Create(
        "CMP0001",
        "Server plugin id is not valid",
        "The id '{1}' of server plugin {0} is not valid: use only lowercase letters, digits, '-' and '_' (^[a-z0-9_-]+$), for example '{2}'");

    public static readonly DiagnosticDescriptor DuplicatePluginId = Create(
        "CMP0002",
        "Server plugin id is used more than once",
        "The server plugin id '{0}' is used by both {1} (assembly {2}) and {3} (assembly {4}); ids must be unique among all plugins a host composes, so rename one of them");

    public static readonly DiagnosticDescriptor PluginNotComposable = Create(
        "CMP0003",
        "Server plugin class cannot be composed",
        "Server plugin {0} cannot be composed because it is {1}; make it a public, non-abstract, non-static, non-generic class, nested only in public types");

    public static readonly DiagnosticDescriptor MissingInterface = Create(
        "CMP0004",
        "Server plugin class does not implement IServerPlugin",
        "Server plugin {0} does not implement Compose.IServerPlugin; add ': IServerPlugin' and a 'public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)' method");

    public static readonly DiagnosticDescriptor InvalidConstructor = Create(
        "CMP0005",
        "Server plugin class needs exactly one usable public constructor",
        "Server plugin {0} {1}; the generated code calls exactly one public constructor and resolves each of its parameters from dependency injection");

    public static readonly DiagnosticDescriptor InvalidConfigureServices = Create(
        "CMP0006",
        "ConfigureServices has the wrong signature",
        "ConfigureServices of server plugin {0} has the wrong signature, so it would never be called; declare it as 'public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)'");

    public static readonly DiagnosticDescriptor NotAClass = Create(
        "CMP0007",
        "[ServerPlugin] is applied to a type that is not a class",
        "[ServerPlugin] is applied to {0}, which is a {1}; a server plugin is a class that implements IServerPlugin");

    public static readonly DiagnosticDescriptor InvalidReferencedPlugin = Create(
        "CMP0010",
        "Referenced server plugin was built with Compose errors",
        "Server plugin '{0}' ({1}) in referenced assembly {2} breaks Compose rule(s) {3} that its build suppressed, so this host cannot compose it; fix the plugin and rebuild its package, or remove the reference to {2}");

    public static readonly DiagnosticDescriptor NewerComposeVersion = Create(
        "CMP0011",
        "Referenced server plugin needs a newer Compose",
        "Server plugin '{0}' in referenced assembly {1} was built with Compose {2}, a newer major version than the Compose.Abstractions {3} this host references; update the host's Compose.Abstractions package reference to {2} or later");

    private static DiagnosticDescriptor Create(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLinkBase + id + ".md");
}
