function Export-BmsWavePlan {
    <#
    .SYNOPSIS
    Exports the workspace's wave plan as an Excel workbook, CSV or JSON file for review and editing.

    .DESCRIPTION
    Copies the plan New-BmsWavePlan wrote (plan.xlsx: a Summary sheet, one sheet per wave and a
    Held back sheet; plan.csv: one row per user; plan.json) to -Path. The format follows the
    extension of -Path (.xlsx, .csv or .json) unless -Format says it. An edited workbook goes back
    with New-BmsWavePlan -FromEdited.

    Outputs the written file (System.IO.FileInfo).

    .PARAMETER Path
    The file to write.

    .PARAMETER Format
    Xlsx, Csv or Json. Default: from the extension of -Path.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work. Accepts the
    Workspace property of Bms2Intune.Wave objects through the pipeline.

    .PARAMETER Force
    Overwrite the file if it exists.

    .EXAMPLE
    Export-BmsWavePlan -Workspace .\work -Path .\waves.xlsx

    Writes the plan workbook to .\waves.xlsx for the change board.

    .EXAMPLE
    Export-BmsWavePlan -Workspace .\work -Path \\fileserver\migration\plan.csv -Force

    Publishes the plan as CSV on a share, replacing yesterday's copy.

    .INPUTS
    Bms2Intune.Wave (its Workspace property).

    .OUTPUTS
    System.IO.FileInfo

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType([System.IO.FileInfo])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [ValidateSet('Xlsx', 'Csv', 'Json')]
        [string] $Format,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string] $Workspace,

        [switch] $Force
    )
    begin {
        $done = $false
    }
    process {
        # Several waves of one plan come through the pipeline; the plan is exported once.
        if ($done) { return }
        $done = $true
        try {
            $target = Resolve-BmsPath -Path $Path
            $kind = $Format
            if (-not $kind) {
                $ext = [System.IO.Path]::GetExtension($target).TrimStart('.').ToLowerInvariant()
                $kind = switch ($ext) {
                    'xlsx' { 'Xlsx' }
                    'csv' { 'Csv' }
                    'json' { 'Json' }
                    default { $null }
                }
                if (-not $kind) {
                    $record = ConvertTo-BmsErrorRecord -Code 'module.unknown_format' -Category InvalidArgument -Message "Cannot tell the format of '$target' from its extension; use .xlsx, .csv or .json, or -Format." -Details @([pscustomobject]@{ file = $target })
                    $PSCmdlet.ThrowTerminatingError($record)
                }
            }
            $ws = Resolve-BmsWorkspace -Workspace $Workspace
            $params = [ordered]@{}
            $params['workspace'] = $ws
            $status = Invoke-BmsRpc -Command 'status' -Params $params
            $plan = @(ConvertTo-BmsArray $status.artifacts | Where-Object { $_.name -eq 'plan' }) | Select-Object -First 1
            if (-not $plan -or -not $plan.present) {
                $record = ConvertTo-BmsErrorRecord -Code 'workspace.missing_artifact' -Category ObjectNotFound -Message "Workspace '$ws' holds no wave plan yet; run New-BmsWavePlan first." -Details @([pscustomobject]@{ file = (Join-Path -Path $ws -ChildPath 'plan.json') })
                $PSCmdlet.ThrowTerminatingError($record)
            }
            $planJson = Join-Path -Path $status.workspace -ChildPath $plan.file
            $source = [System.IO.Path]::ChangeExtension($planJson, $kind.ToLowerInvariant())
            if (-not (Test-Path -LiteralPath $source -PathType Leaf)) {
                $record = ConvertTo-BmsErrorRecord -Code 'workspace.missing_artifact' -Category ObjectNotFound -Message "The plan has no $kind file at '$source'; run New-BmsWavePlan again." -Details @([pscustomobject]@{ file = $source })
                $PSCmdlet.ThrowTerminatingError($record)
            }
            if ((Test-Path -LiteralPath $target) -and -not $Force) {
                $record = ConvertTo-BmsErrorRecord -Code 'module.file_exists' -Category ResourceExists -Message "'$target' exists; use -Force to overwrite it." -Details @([pscustomobject]@{ file = $target })
                $PSCmdlet.ThrowTerminatingError($record)
            }
            if ($PSCmdlet.ShouldProcess($target, "Export the wave plan ($kind)")) {
                Copy-Item -LiteralPath $source -Destination $target -Force
                Get-Item -LiteralPath $target
            }
        } catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
    }
}
