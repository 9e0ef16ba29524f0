using System.Collections.Immutable;
using System.Composition;
using Compose.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace Compose.CodeFixes;

/// <summary>
/// CMP0006 and CMP0012: rewrites the method's signature into the one Compose calls,
/// <c>public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)</c> or
/// <c>public Task ExitAsync(CancellationToken cancellationToken)</c>, keeping its body and the names of the
/// parameters it keeps. Offered only where the body stays valid: no other parameter is used, no type parameter is
/// used, and a value it returns can be dropped (ConfigureServices) or a <c>Task</c> can be returned (ExitAsync).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LifecycleMethodCodeFix))]
[Shared]
public sealed class LifecycleMethodCodeFix : CodeFixProvider
{
    private const string ServiceCollection = "global::Microsoft.Extensions.DependencyInjection.IServiceCollection";
    private const string Configuration = "global::Microsoft.Extensions.Configuration.IConfiguration";
    private const string CancellationTokenType = "global::System.Threading.CancellationToken";
    private const string TaskType = "global::System.Threading.Tasks.Task";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.InvalidConfigureServices, DiagnosticIds.NearMissLifecycleMethod);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            var method = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<MethodDeclarationSyntax>();
            if (method is null || model.GetDeclaredSymbol(method, context.CancellationToken) is not { } symbol)
            {
                continue;
            }

            var intended = diagnostic.Id == DiagnosticIds.InvalidConfigureServices
                ? DiagnosticIds.ConfigureServicesName
                : diagnostic.Properties.TryGetValue(DiagnosticIds.IntendedMethodProperty, out var value) ? value : null;
            var rewritten = intended switch
            {
                DiagnosticIds.ConfigureServicesName => ConfigureServices(method, symbol, model, context.CancellationToken),
                DiagnosticIds.ExitAsyncName => ExitAsync(method, symbol, model, context.CancellationToken),
                _ => null,
            };
            if (rewritten is null)
            {
                continue;
            }

            var title = intended == DiagnosticIds.ConfigureServicesName
                ? "Declare 'public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)'"
                : "Declare 'public Task ExitAsync(CancellationToken cancellationToken)'";
            context.RegisterCodeFix(
                CodeAction.Create(title, cancellationToken => ReplaceAsync(context.Document, method, rewritten, cancellationToken), equivalenceKey: diagnostic.Id),
                diagnostic);
        }
    }

    private static MethodDeclarationSyntax? ConfigureServices(MethodDeclarationSyntax method, IMethodSymbol symbol, SemanticModel model, CancellationToken cancellationToken)
    {
        var services = symbol.Parameters.FirstOrDefault(p => Is(p.Type, ServiceCollection));
        var configuration = symbol.Parameters.FirstOrDefault(p => Is(p.Type, Configuration));
        if (UsesAnyParameterBut(method, model, new[] { services, configuration }, cancellationToken) || UsesTypeParameters(method, symbol, model, cancellationToken))
        {
            return null;
        }

        var body = method.Body;
        var expressionBody = method.ExpressionBody;
        if (!symbol.ReturnsVoid)
        {
            if (expressionBody is not null && !IsStatementExpression(expressionBody.Expression))
            {
                return null;
            }

            if (body is not null)
            {
                body = DropReturnedValues(body);
                if (body is null)
                {
                    return null;
                }
            }
        }

        var parameters = SyntaxFactory.ParameterList(SyntaxFactory.SeparatedList(new[]
        {
            Parameter(ServiceCollection, services?.Name ?? "services"),
            Parameter(Configuration, configuration?.Name ?? "configuration"),
        }));
        return Rewrite(method, DiagnosticIds.ConfigureServicesName, isStatic: true, SyntaxFactory.PredefinedType(SyntaxFactory.Token(SyntaxKind.VoidKeyword)), parameters, body, expressionBody, keepAsync: false);
    }

    private static MethodDeclarationSyntax? ExitAsync(MethodDeclarationSyntax method, IMethodSymbol symbol, SemanticModel model, CancellationToken cancellationToken)
    {
        var token = symbol.Parameters.FirstOrDefault(p => Is(p.Type, CancellationTokenType));
        if (UsesAnyParameterBut(method, model, new[] { token }, cancellationToken) || UsesTypeParameters(method, symbol, model, cancellationToken))
        {
            return null;
        }

        var body = method.Body;
        var expressionBody = method.ExpressionBody;
        var isAsync = method.Modifiers.Any(SyntaxKind.AsyncKeyword);
        var returnsTask = Is(symbol.ReturnType, TaskType);
        if (!isAsync && !returnsTask)
        {
            if (!symbol.ReturnsVoid)
            {
                return null; // ValueTask, bool...: what to return instead is the author's call.
            }

            // A synchronous clean-up: run it, then return a completed task.
            var completed = SyntaxFactory.ParseStatement($"return {TaskType}.CompletedTask;").WithAdditionalAnnotations(Simplifier.Annotation, Simplifier.AddImportsAnnotation);
            if (expressionBody is not null)
            {
                body = SyntaxFactory.Block(SyntaxFactory.ExpressionStatement(expressionBody.Expression), completed);
                expressionBody = null;
            }
            else if (body is not null)
            {
                body = body.ReplaceNodes(
                    OwnReturns(body),
                    (original, _) => SyntaxFactory.ReturnStatement(SyntaxFactory.ParseExpression($"{TaskType}.CompletedTask").WithLeadingTrivia(SyntaxFactory.Space))
                        .WithTriviaFrom(original)
                        .WithAdditionalAnnotations(Simplifier.Annotation, Simplifier.AddImportsAnnotation));
                body = body.AddStatements(completed);
            }
        }
        else if (isAsync && !symbol.ReturnsVoid && !returnsTask && !Is(symbol.ReturnType, "global::System.Threading.Tasks.ValueTask"))
        {
            return null;
        }

        var parameters = SyntaxFactory.ParameterList(SyntaxFactory.SingletonSeparatedList(Parameter(CancellationTokenType, token?.Name ?? "cancellationToken")));
        return Rewrite(method, DiagnosticIds.ExitAsyncName, isStatic: false, SyntaxFactory.ParseTypeName(TaskType), parameters, body, expressionBody, keepAsync: true);
    }

    private static MethodDeclarationSyntax Rewrite(
        MethodDeclarationSyntax method, string name, bool isStatic, TypeSyntax returnType, ParameterListSyntax parameters, BlockSyntax? body, ArrowExpressionClauseSyntax? expressionBody, bool keepAsync)
    {
        var modifiers = new List<SyntaxToken> { SyntaxFactory.Token(SyntaxKind.PublicKeyword) };
        if (isStatic)
        {
            modifiers.Add(SyntaxFactory.Token(SyntaxKind.StaticKeyword));
        }

        modifiers.AddRange(method.Modifiers.Where(m => !m.IsKind(SyntaxKind.PublicKeyword) && !m.IsKind(SyntaxKind.PrivateKeyword) && !m.IsKind(SyntaxKind.ProtectedKeyword)
                                                       && !m.IsKind(SyntaxKind.InternalKeyword) && !m.IsKind(SyntaxKind.StaticKeyword) && !m.IsKind(SyntaxKind.VirtualKeyword)
                                                       && !m.IsKind(SyntaxKind.AbstractKeyword) && !m.IsKind(SyntaxKind.SealedKeyword)
                                                       && (keepAsync || !m.IsKind(SyntaxKind.AsyncKeyword)))
            .Select(m => m.WithoutTrivia()));
        var spaced = modifiers.Select(m => m.WithTrailingTrivia(SyntaxFactory.Space)).ToList();
        spaced[0] = spaced[0].WithLeadingTrivia(method.GetLeadingTrivia());

        var rewritten = method
            .WithModifiers(SyntaxFactory.TokenList(spaced))
            .WithReturnType(returnType.WithAdditionalAnnotations(Simplifier.Annotation, Simplifier.AddImportsAnnotation).WithTrailingTrivia(SyntaxFactory.Space))
            .WithIdentifier(SyntaxFactory.Identifier(name).WithTriviaFrom(method.Identifier))
            .WithTypeParameterList(null)
            .WithConstraintClauses(default)
            .WithParameterList(parameters.WithTriviaFrom(method.ParameterList))
            .WithBody(body)
            .WithExpressionBody(expressionBody);
        if (method.AttributeLists.Count > 0)
        {
            rewritten = rewritten.WithAttributeLists(method.AttributeLists);
            spaced[0] = spaced[0].WithLeadingTrivia(method.Modifiers.FirstOrDefault().LeadingTrivia);
            rewritten = rewritten.WithModifiers(SyntaxFactory.TokenList(spaced));
        }
        else if (method.Modifiers.Count == 0)
        {
            rewritten = rewritten.WithModifiers(SyntaxFactory.TokenList(spaced)).WithReturnType(rewritten.ReturnType.WithLeadingTrivia());
        }

        if (expressionBody is not null && body is null)
        {
            rewritten = rewritten.WithSemicolonToken(method.SemicolonToken.IsKind(SyntaxKind.None) ? SyntaxFactory.Token(SyntaxKind.SemicolonToken) : method.SemicolonToken);
        }
        else
        {
            rewritten = rewritten.WithSemicolonToken(default);
        }

        return rewritten.WithAdditionalAnnotations(Formatter.Annotation);
    }

    private static async Task<Document> ReplaceAsync(Document document, MethodDeclarationSyntax method, MethodDeclarationSyntax rewritten, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var changed = document.WithSyntaxRoot(root.ReplaceNode(method, rewritten));
        changed = await ImportAdder.AddImportsAsync(changed, Simplifier.AddImportsAnnotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        changed = await Simplifier.ReduceAsync(changed, Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await Formatter.FormatAsync(changed, Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static ParameterSyntax Parameter(string type, string name)
        => SyntaxFactory.Parameter(SyntaxFactory.Identifier(name))
            .WithType(SyntaxFactory.ParseTypeName(type).WithAdditionalAnnotations(Simplifier.Annotation, Simplifier.AddImportsAnnotation).WithTrailingTrivia(SyntaxFactory.Space));

    private static bool Is(ITypeSymbol type, string name) => type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) == name;

    /// <summary>Whether the method body uses a parameter the new signature drops.</summary>
    private static bool UsesAnyParameterBut(MethodDeclarationSyntax method, SemanticModel model, IParameterSymbol?[] kept, CancellationToken cancellationToken)
    {
        var symbol = model.GetDeclaredSymbol(method, cancellationToken);
        var dropped = symbol?.Parameters.Where(p => !kept.Contains(p, SymbolEqualityComparer.Default)).ToList() ?? new List<IParameterSymbol>();
        if (dropped.Count == 0)
        {
            return false;
        }

        return Bodies(method).SelectMany(b => b.DescendantNodesAndSelf()).OfType<IdentifierNameSyntax>()
            .Any(name => model.GetSymbolInfo(name, cancellationToken).Symbol is IParameterSymbol p && dropped.Contains(p, SymbolEqualityComparer.Default));
    }

    private static bool UsesTypeParameters(MethodDeclarationSyntax method, IMethodSymbol symbol, SemanticModel model, CancellationToken cancellationToken)
        => symbol.TypeParameters.Length > 0
           && Bodies(method).SelectMany(b => b.DescendantNodesAndSelf()).OfType<IdentifierNameSyntax>()
               .Any(name => model.GetSymbolInfo(name, cancellationToken).Symbol is ITypeParameterSymbol { TypeParameterKind: TypeParameterKind.Method });

    private static IEnumerable<SyntaxNode> Bodies(MethodDeclarationSyntax method)
        => new SyntaxNode?[] { method.Body, method.ExpressionBody }.Where(n => n is not null)!;

    /// <summary>The return statements of the method itself, not of its lambdas or local functions.</summary>
    private static IEnumerable<ReturnStatementSyntax> OwnReturns(BlockSyntax body)
        => body.DescendantNodes(node => node is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax)).OfType<ReturnStatementSyntax>();

    /// <summary>
    /// The body with its returned values dropped, for a method that becomes void: a trailing <c>return x;</c> goes,
    /// other returns of a plain value become <c>return;</c>; null when a returned expression does work that would be lost.
    /// </summary>
    private static BlockSyntax? DropReturnedValues(BlockSyntax body)
    {
        var returns = OwnReturns(body).Where(r => r.Expression is not null).ToList();
        if (returns.Any(r => r.Expression is not (IdentifierNameSyntax or MemberAccessExpressionSyntax { Expression: IdentifierNameSyntax or ThisExpressionSyntax } or LiteralExpressionSyntax)))
        {
            return null;
        }

        var last = body.Statements.LastOrDefault() as ReturnStatementSyntax;
        var updated = body.ReplaceNodes(returns, (original, _) => SyntaxFactory.ReturnStatement().WithTriviaFrom(original));
        if (last is { Expression: not null } && updated.Statements.LastOrDefault() is ReturnStatementSyntax trailing)
        {
            updated = updated.WithStatements(updated.Statements.Remove(trailing));
        }

        return updated;
    }

    private static bool IsStatementExpression(ExpressionSyntax expression)
        => expression is InvocationExpressionSyntax or AssignmentExpressionSyntax or ObjectCreationExpressionSyntax or AwaitExpressionSyntax
            or PostfixUnaryExpressionSyntax or PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.PreIncrementExpression or (int)SyntaxKind.PreDecrementExpression };
}
